"""A Temporal-owned run of a 5,000-task DAG completes on the real stack: its plan travels through a
real Temporal server's payload limits, 5,000 TaskInstances are created and settled in Airflow's DB,
and Airflow's REST API shows every one of them. (The workflow's own history limits under 5,000 real
tries are covered by OwnedDagRunWorkflowTest.)"""
from __future__ import annotations

import subprocess

import pytest

from e2e_checks import RUN_TIMEOUT

DAG_ID = "e2e_owned_5000_tasks"


@pytest.fixture
def owned_5000(stack, require_temporal):
    stack.airflow.wait_for_dag(DAG_ID, timeout=300)
    stack.airflow.unpause(DAG_ID)
    return DAG_ID


def test_a_5000_task_dag_completes_as_a_temporal_owned_run(stack, airflow, owned_5000):
    done = subprocess.run([stack.bin("airflow"), "temporal", "trigger", DAG_ID, "--wait"], env=stack.airflow_env(),
                          capture_output=True, text=True, timeout=RUN_TIMEOUT * 3)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_id = next(line.split()[2] for line in done.stdout.splitlines() if line.startswith("Started run "))

    run = airflow.run(DAG_ID, run_id)
    assert (run["run_type"], run["state"]) == ("external", "success")
    path = f"/dags/{airflow.q(DAG_ID)}/dagRuns/{airflow.q(run_id)}/taskInstances"
    assert airflow.get(path, params={"limit": 1})["total_entries"] == 5000
    assert airflow.get(path, params={"limit": 1, "state": "success"})["total_entries"] == 5000
    join = airflow.get(f"{path}/join")
    assert (join["state"], join["try_number"]) == ("success", 1)
