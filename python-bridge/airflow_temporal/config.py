"""The ``[temporal]`` section of airflow.cfg (or ``AIRFLOW__TEMPORAL__*``), read once per executor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from airflow_temporal.codec import CodecKeys

SECTION = "temporal"


class ConfigError(ValueError):
    """A ``[temporal]`` setting is unusable; the message names the setting and the fix."""


class _ConfSource(Protocol):
    def get(self, section: str, key: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class TemporalSettings:
    address: str
    namespace: str
    task_queue: str
    ui_url: str
    workflow_idle_timeout: int
    rpc_timeout: float
    default_queue: str
    api_key: str = ""
    tls: bool = False
    tls_server_ca_cert_path: str = ""
    tls_client_cert_path: str = ""
    tls_client_key_path: str = ""
    tls_server_name: str = ""
    codec_key: str = ""
    codec_key_file: str = ""

    @classmethod
    def from_conf(cls, conf: _ConfSource) -> TemporalSettings:
        def get(key: str, default: str) -> str:
            value = conf.get(SECTION, key, fallback=default)
            return default if value is None else str(value).strip()

        def get_int(key: str, default: int) -> int:
            raw = get(key, str(default))
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(f"[temporal] {key} must be a whole number of seconds, not {raw!r}") from None
            if value <= 0:
                raise ConfigError(f"[temporal] {key} must be positive, not {value}")
            return value

        tls_raw = get("tls", "False").lower()
        if tls_raw not in ("true", "false", "1", "0", "t", "f"):
            raise ConfigError(f"[temporal] tls must be True or False, not {tls_raw!r}")
        settings = cls(
            address=get("address", "localhost:7233"),
            namespace=get("namespace", "default"),
            task_queue=get("task_queue", "airflow"),
            ui_url=get("ui_url", "http://localhost:8233").rstrip("/"),
            workflow_idle_timeout=get_int("workflow_idle_timeout", 600),
            rpc_timeout=float(get_int("rpc_timeout", 10)),
            default_queue=str(conf.get("operators", "default_queue", fallback="default")),
            api_key=get("api_key", ""),
            tls=tls_raw in ("true", "1", "t"),
            tls_server_ca_cert_path=get("tls_server_ca_cert_path", ""),
            tls_client_cert_path=get("tls_client_cert_path", ""),
            tls_client_key_path=get("tls_client_key_path", ""),
            tls_server_name=get("tls_server_name", ""),
            codec_key=get("codec_key", ""),
            codec_key_file=get("codec_key_file", ""),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                f"[temporal] address must be host:port (e.g. localhost:7233), not {self.address!r}"
            )
        if not self.namespace:
            raise ConfigError("[temporal] namespace is empty: set it to the Temporal namespace of your workers")
        if not self.task_queue or ":" in self.task_queue:
            raise ConfigError(
                f"[temporal] task_queue must be non-empty and contain no ':' (it prefixes routed queues), "
                f"not {self.task_queue!r}"
            )
        if bool(self.tls_client_cert_path) != bool(self.tls_client_key_path):
            raise ConfigError("[temporal] tls_client_cert_path and tls_client_key_path must be set together")
        for key in ("tls_server_ca_cert_path", "tls_client_cert_path", "tls_client_key_path"):
            path = getattr(self, key)
            if path and not Path(path).is_file():
                raise ConfigError(f"[temporal] {key} points at {path!r}, which is not a readable file")
        self.codec_keys()

    def codec_keys(self) -> CodecKeys | None:
        """The payload codec's keys (None: payloads go to Temporal in clear); ConfigError names a bad setting."""
        from airflow_temporal.codec import CodecKeys

        if self.codec_key and self.codec_key_file:
            raise ConfigError("[temporal] codec_key and codec_key_file are both set: keep one")
        if self.codec_key_file:
            try:
                text = Path(self.codec_key_file).read_text()
            except (OSError, UnicodeDecodeError) as e:
                raise ConfigError(
                    f"[temporal] codec_key_file {self.codec_key_file!r} cannot be read ({type(e).__name__}): "
                    "point it at a readable file of base64 keys"
                ) from None
            setting = f"[temporal] codec_key_file {self.codec_key_file!r}"
        elif self.codec_key:
            text, setting = self.codec_key, "[temporal] codec_key"
        else:
            return None
        try:
            return CodecKeys.parse(text)
        except ValueError as e:
            raise ConfigError(f"{setting}: {e}") from None

    @property
    def uses_tls(self) -> bool:
        return self.tls or bool(self.api_key) or bool(self.tls_client_cert_path) or bool(self.tls_server_ca_cert_path)

    def __repr__(self) -> str:  # never print the API key or codec key
        return (
            f"TemporalSettings(address={self.address!r}, namespace={self.namespace!r}, "
            f"task_queue={self.task_queue!r}, tls={self.uses_tls}, api_key={'***' if self.api_key else ''!r}, "
            f"codec={'on' if self.codec_key or self.codec_key_file else 'off'})"
        )
