"""Listener plugins' DagRun hooks (`on_dag_run_running`, `on_dag_run_success`, `on_dag_run_failed`) are called
for Temporal-owned runs once each, with the scheduler's msg, as Airflow's scheduler calls them for its runs: the
same DAG run both ways gets the same calls. A stack of its own loads tests/e2e/plugins, whose listener records
every call in a file: with a listener plugin loaded, Airflow refuses DAGs with an `end_from_trigger` task (such as
e2e_owned_deferrable), so the shared e2e stack must not load it."""
from __future__ import annotations

import json
import os
import uuid

import pytest

from e2e_checks import RUN_TIMEOUT
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import REPO, Stack, WorkerSpec, wait_until


@pytest.fixture(scope="module")
def stack():
    s = Stack(name=(os.environ.get("AT_E2E_STACK_NAME") or "e2e") + "-listeners", ports="free",
              workers=[WorkerSpec(queues="default", identity="listeners")],
              extra_env={"AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "tests" / "e2e" / "plugins")})
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def airflow(stack):
    return stack.airflow

DAG_ID = "e2e_owned_callbacks"  # `work` fails when conf `fail` is true, then `report`
RECORD = "dag_run_listener.jsonl"


def _calls(stack, run_id: str) -> list[dict]:
    path = stack.marker_dir / RECORD
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["dag_id"] == DAG_ID and e["run_id"] == run_id]


def _ended_calls(stack, run_id: str) -> list[dict]:
    """The run's calls, once its end was told (the worker hands it on after the run's end commits)."""
    return wait_until(lambda: (c := _calls(stack, run_id)) and c[-1]["hook"] != "on_dag_run_running" and c,
                      RUN_TIMEOUT, f"the listeners to hear of the end of {run_id}",
                      on_timeout=lambda: repr(_calls(stack, run_id)))


@pytest.mark.parametrize("fail", [False, True], ids=["success", "failed"])
def test_owned_runs_call_the_dag_run_listeners_once_each_as_the_scheduler_calls_them_for_its_runs(
        stack, airflow, fail):
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    suffix = uuid.uuid4().hex[:8]
    conf = {"fail": True} if fail else {}
    by_airflow, owned = f"listeners_airflow_{suffix}", f"listeners_owned_{suffix}"
    airflow.trigger(DAG_ID, conf=conf, run_id=by_airflow)
    triggered = trigger_owned(stack, DAG_ID, "--run-id", owned, "--conf", json.dumps(conf))
    assert triggered.returncode == 0, describe(triggered)
    end = "failed" if fail else "success"
    for run_id in (by_airflow, owned):
        assert airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)["state"] == end

    airflow_calls, owned_calls = _ended_calls(stack, by_airflow), _ended_calls(stack, owned)
    expected = [("on_dag_run_running", "started"), (f"on_dag_run_{end}", "task_failure" if fail else "success")]
    assert [(c["hook"], c["msg"]) for c in airflow_calls] == expected, airflow_calls
    assert [(c["hook"], c["msg"]) for c in owned_calls] == expected, owned_calls
    assert {c["run_type"] for c in owned_calls} == {"external"}
    assert all(c["has_dag"] for c in owned_calls + airflow_calls), (owned_calls, airflow_calls)
    assert owned_calls[-1]["state"] == end
