"""The provider entry point as the installed Airflow 3.3 sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.resources import files

import jsonschema

from airflow_temporal.get_provider_info import get_provider_info
from airflow_temporal.temporal_ui import workflow_url


def test_provider_info_validates_against_airflows_schema():
    schema = json.loads(files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_executor_config_and_cli_are_discovered_by_airflow(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__TEMPORAL__NAMESPACE": "prod"}
    airflow = [sys.executable, "-m", "airflow"]
    listed = subprocess.run([*airflow, "config", "list", "--section", "temporal", "--show-values"],
                            env=env, capture_output=True, text=True, check=True).stdout
    for option in ("address", "namespace", "task_queue", "api_key", "ui_url", "workflow_idle_timeout", "codec_key",
                   "codec_key_file"):
        assert f"{option} =" in listed
    assert "namespace = prod" in listed
    helped = subprocess.run([*airflow, "temporal", "--help"], env=env, capture_output=True, text=True, check=True)
    assert all(command in helped.stdout for command in ("check", "workflow", "trigger"))
    assert "missing 'cli' section" not in helped.stdout + helped.stderr


def test_the_executor_loads_by_its_provider_name_and_by_its_old_module_path():
    from airflow.executors.executor_loader import ExecutorLoader
    from airflow.executors.executor_utils import ExecutorName

    from airflow_temporal.executors.temporal_executor import TemporalExecutor

    [name] = get_provider_info()["executors"]
    assert ExecutorLoader.import_executor_cls(ExecutorName(name))[0] is TemporalExecutor
    assert ExecutorLoader.import_executor_cls(ExecutorName("airflow_temporal.executor.TemporalExecutor"))[0] is TemporalExecutor


def test_temporal_check_names_the_unreachable_address(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__TEMPORAL__ADDRESS": "127.0.0.1:1",
           "AIRFLOW__TEMPORAL__RPC_TIMEOUT": "3"}
    result = subprocess.run([sys.executable, "-m", "airflow", "temporal", "check"], env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "cannot reach Temporal at 127.0.0.1:1" in result.stderr


def test_the_plugin_with_the_run_link_is_loaded_by_airflow(tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__TEMPORAL__UI_URL": "http://temporal.example:8233"}
    listed = subprocess.run([sys.executable, "-m", "airflow", "plugins", "--output", "json"],
                            env=env, capture_output=True, text=True, check=True).stdout
    [plugin] = [p for p in json.loads(listed) if p["name"] == "temporal"]
    assert "/temporal/dag-runs/{DAG_ID}/{RUN_ID}" in str(plugin)


def test_the_run_tab_links_to_the_runs_workflow_in_the_temporal_ui():
    run_id = "manual__2026-11-23T05:00:00+00:00"
    expected = ("http://127.0.0.1:8233/namespaces/default/workflows/"
                "dagrun%3Aetl%3Amanual__2026-11-23T05%3A00%3A00%2B00%3A00")
    assert workflow_url("http://127.0.0.1:8233/", "default", "etl", run_id) == expected
