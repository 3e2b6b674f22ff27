"""A Temporal-owned run honours its DAG's max_active_runs as Airflow's scheduler does: beyond the
limit it is created queued, shows so in Airflow's REST API with its task instances not started, and
starts once a running run of the DAG ends. The DAG (e2e_owned_max_active_runs, max_active_runs=1) has
one task that waits for a Variable named in the run's conf."""
from __future__ import annotations

import json
import uuid

import pytest

from e2e_checks import RUN_TIMEOUT, ts
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

DAG_ID = "e2e_owned_max_active_runs"


def _ti(airflow, run_id: str) -> tuple[str | None, int]:
    (ti,) = airflow.task_instances(DAG_ID, run_id)
    return ti["state"], ti["try_number"]


def test_an_owned_run_beyond_max_active_runs_waits_queued_until_the_running_run_ends(stack, airflow):
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    suffix = uuid.uuid4().hex[:8]
    hold_variable = f"e2e_max_active_runs_{suffix}"
    first, second = f"owned_first_{suffix}", f"owned_second_{suffix}"
    try:
        started = trigger_owned(stack, DAG_ID, "--run-id", first, "--conf", json.dumps({"hold_variable": hold_variable}))
        assert started.returncode == 0, describe(started)
        wait_until(lambda: _ti(airflow, first)[0] == "running", RUN_TIMEOUT, f"{first}'s task to be running")

        waiting = trigger_owned(stack, DAG_ID, "--run-id", second)
        assert waiting.returncode == 0, describe(waiting)
        assert "queued" in waiting.stdout, describe(waiting)
        run = airflow.run(DAG_ID, second)
        assert (run["run_type"], run["state"], run["start_date"]) == ("external", "queued", None), run
        assert _ti(airflow, second) == (None, 0)
        assert airflow.run(DAG_ID, first)["state"] == "running"
    finally:
        airflow.request("POST", "/variables", json={"key": hold_variable, "value": "open"}, expect=(200, 201))

    try:
        ended_first = airflow.wait_for_run(DAG_ID, first, timeout=RUN_TIMEOUT)
        ended_second = airflow.wait_for_run(DAG_ID, second, timeout=RUN_TIMEOUT)
    finally:
        airflow.request("DELETE", f"/variables/{airflow.q(hold_variable)}", expect=(200, 204, 404))
    assert (ended_first["state"], ended_second["state"]) == ("success", "success")
    assert ts(ended_second["start_date"]) >= ts(ended_first["end_date"]), (ended_first, ended_second)
    assert _ti(airflow, second) == ("success", 1)
