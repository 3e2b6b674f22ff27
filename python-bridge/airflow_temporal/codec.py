"""
The optional AES-256-GCM payload codec, the same as the Java worker's ``AesGcmPayloadCodec``
(docs/wire-contract.md, "Encrypted payloads"): with ``[temporal] codec_key`` or ``codec_key_file``
set, every payload this package sends to Temporal (task submissions with their workload token,
run requests, queries) is stored there encrypted, and every failure's message too.

Each payload becomes ``nonce (12 bytes) || ciphertext || tag (16 bytes)`` of the original
``Payload`` message, with metadata ``encoding: binary/encrypted`` and ``encryption-key-id``. The
first configured key encrypts; any configured key decrypts, so keys can be rotated.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID_DOMAIN = b"airflow-temporal codec key id\0"
_KEY_HINT = "give a base64-encoded 256-bit key, e.g. from `openssl rand -base64 32`"


class CodecError(ValueError):
    """A payload cannot be decrypted; the message says why and never holds a key."""


def key_id(key: bytes) -> str:
    """The id written beside each payload: the first 8 bytes of SHA-256 over a fixed prefix and the key, in hex."""
    return hashlib.sha256(_KEY_ID_DOMAIN + key).hexdigest()[:16]


class CodecKeys:
    """The codec's AES-256 keys, current first. ``str()``/``repr()`` show only their ids."""

    def __init__(self, keys: Sequence[bytes]):
        self._by_id: dict[str, AESGCM] = {}
        for key in keys:
            self._by_id.setdefault(key_id(key), AESGCM(key))
        self.current_id = next(iter(self._by_id))

    @classmethod
    def parse(cls, text: str) -> CodecKeys:
        """Base64 keys separated by commas, whitespace or newlines (``#`` starts a comment line).

        A ``ValueError`` says which key (by position, never by value) is wrong and how to fix it.
        """
        tokens = [t for line in text.splitlines() if not line.strip().startswith("#")
                  for t in re.split(r"[,\s]+", line) if t]
        if not tokens:
            raise ValueError(f"holds no key: {_KEY_HINT}")
        keys = []
        for position, token in enumerate(tokens, 1):
            try:
                raw = base64.b64decode(token, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"key {position} is not base64: {_KEY_HINT}") from None
            if len(raw) != KEY_BYTES:
                raise ValueError(f"key {position} has {len(raw)} bytes, not {KEY_BYTES}: {_KEY_HINT}")
            keys.append(raw)
        return cls(keys)

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    def cipher(self, key_id_: str) -> AESGCM | None:
        return self._by_id.get(key_id_)

    def __repr__(self) -> str:
        return f"CodecKeys({self.ids})"


class AesGcmPayloadCodec(PayloadCodec):
    def __init__(self, keys: CodecKeys):
        self.keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.keys.cipher(self.keys.current_id).encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: self.keys.current_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """The original payload; one not marked ``binary/encrypted`` passes through unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self.keys.cipher(kid)
        if cipher is None:
            raise CodecError(
                f"payload was encrypted with codec key {kid!r}, which is not configured (configured: "
                f"{self.keys.ids}): add that key after the current one in [temporal] codec_key / codec_key_file"
            )
        data = payload.data
        if len(data) < NONCE_BYTES + TAG_BYTES:
            raise CodecError(f"encrypted payload is too short ({len(data)} bytes) to hold a nonce and tag")
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None)
        except InvalidTag:
            raise CodecError(
                f"encrypted payload failed authentication with codec key {kid!r} (tampered or truncated)"
            ) from None
        original = Payload()
        original.ParseFromString(plain)
        return original


def data_converter(keys: CodecKeys | None) -> DataConverter:
    """Temporal's default converter, encrypting payloads and failure messages when keys are given (as Java does)."""
    if keys is None:
        return DataConverter.default
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=AesGcmPayloadCodec(keys),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
