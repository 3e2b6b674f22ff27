from __future__ import annotations

import pytest

from airflow_temporal.config import ConfigError, TemporalSettings


class FakeConf(dict):
    """A dict with Airflow's ``conf.get(section, key, fallback=...)`` signature: config input, not a mock of Airflow."""

    def get(self, section, key, fallback=None):  # type: ignore[override]
        return super().get(f"{section}.{key}", fallback)


def test_defaults_point_at_a_local_dev_server():
    s = TemporalSettings.from_conf(FakeConf())
    assert (s.address, s.namespace, s.task_queue, s.ui_url) == (
        "localhost:7233", "default", "airflow", "http://localhost:8233")
    assert s.uses_tls is False


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("address", "localhost", "address must be host:port"),
        ("task_queue", "a:b", "task_queue must be non-empty and contain no ':'"),
        ("tls", "maybe", "tls must be True or False"),
        ("workflow_idle_timeout", "soon", "workflow_idle_timeout must be a whole number"),
        ("rpc_timeout", "0", "rpc_timeout must be positive"),
        ("tls_server_ca_cert_path", "/nonexistent/ca.pem", "not a readable file"),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(key, value, message):
    with pytest.raises(ConfigError, match=message) as e:
        TemporalSettings.from_conf(FakeConf({f"temporal.{key}": value}))
    assert f"[temporal] {key}" in str(e.value)


def test_api_key_implies_tls_and_never_shows_in_repr():
    s = TemporalSettings.from_conf(FakeConf({"temporal.api_key": "sekrit-key"}))
    assert s.uses_tls
    assert "sekrit-key" not in repr(s)


def test_settings_come_from_airflow_environment_variables(monkeypatch):
    from airflow.configuration import conf

    monkeypatch.setenv("AIRFLOW__TEMPORAL__ADDRESS", "temporal.internal:7233")
    monkeypatch.setenv("AIRFLOW__TEMPORAL__TASK_QUEUE", "etl")
    s = TemporalSettings.from_conf(conf)
    assert (s.address, s.task_queue) == ("temporal.internal:7233", "etl")
