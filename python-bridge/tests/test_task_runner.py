"""``python -m airflow_temporal.worker.task_runner`` refuses what it cannot run, in one line and with exit code 2.

It runs for real in tests/test_external_runs.py (``test_owned_task_runner_runs_a_ti_of_an_external_run``),
against the real api-server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from airflow_temporal.worker.task_runner import EXIT_CANNOT_START


def run_task_runner(tmp_path, workload: str | None, **env: str) -> subprocess.CompletedProcess:
    path = tmp_path / "workload.json"
    if workload is not None:
        path.write_text(workload)
    return subprocess.run(
        [sys.executable, "-m", "airflow_temporal.worker.task_runner", "--json-path", str(path)],
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), **env}, capture_output=True, text=True, timeout=120,
    )


def assert_refused(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == EXIT_CANNOT_START, result.stderr
    assert result.stderr.startswith("python -m airflow_temporal.worker.task_runner: error: "), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_is_refused(tmp_path):
    assert_refused(run_task_runner(tmp_path, None), "cannot read the workload file")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not JSON"),
    ("[1, 2]", "holds a JSON list, not an object"),
])
def test_a_malformed_file_is_refused(tmp_path, content, message):
    assert_refused(run_task_runner(tmp_path, content), message)


def test_another_contract_version_is_refused(tmp_path, wire_fixture):
    workload = {**wire_fixture("owned_task_workload.json"), "contract_version": 2}
    assert_refused(run_task_runner(tmp_path, json.dumps(workload)),
                   "contract_version 2 of ")


def test_a_workload_that_is_not_an_owned_task_workload_names_its_fields(tmp_path, wire_fixture):
    workload = wire_fixture("owned_task_workload.json")
    del workload["ti"]["try_number"]
    del workload["bundle_info"]
    assert_refused(run_task_runner(tmp_path, json.dumps(workload)),
                   "not a valid OwnedTaskWorkload: ti.try_number: Field required")


def test_a_workload_without_the_token_the_worker_signs_is_refused(tmp_path, wire_fixture):
    assert_refused(run_task_runner(tmp_path, json.dumps(wire_fixture("owned_task_workload.json"))),
                   "the workload file has no token")
