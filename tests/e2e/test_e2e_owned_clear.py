"""Clearing task instances of a Temporal-owned run in Airflow (the UI's Clear, the REST API's
clearTaskInstances and dagRuns/{run_id}/clear) makes Temporal resume the run, as Airflow's scheduler
resumes a cleared run in executor mode: the cleared TIs run again at their next try, the others keep
their state and tries, downstream tasks are decided again, and the run ends by Airflow's rules.

The clear is Airflow's own (its REST API on the real stack); everything is checked through Airflow's
REST API, the TI rows' scheduler columns and Temporal's own API. The DAG (e2e_owned_clear): `prepare`
-> `gate` (fails until a Variable exists) -> `after`; beside them `parallel` (held until another
Variable exists, when asked to).
"""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from e2e_checks import RUN_TIMEOUT, ts
from airflow_temporal_testing.owned import OWNED_TASK_ACTIVITY_TYPE, describe, start_owned, trigger_owned
from airflow_temporal_testing.temporal import activities, list_executions
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

DAG_ID = "e2e_owned_clear"
OWNED_WORKFLOW_TYPE = "OwnedDagRun"


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _tis(airflow, run_id: str) -> dict[str, tuple[str | None, int]]:
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in airflow.task_instances(DAG_ID, run_id)}


def _tries(airflow, run_id: str, task_id: str) -> list[tuple[int, str]]:
    return sorted((t["try_number"], t["state"]) for t in airflow.tries(DAG_ID, run_id, task_id))


def _set_variable(airflow, key: str) -> None:
    airflow.request("POST", "/variables", json={"key": key, "value": "open"}, expect=(200, 201))


def _delete_variable(airflow, key: str) -> None:
    airflow.request("DELETE", f"/variables/{airflow.q(key)}", expect=(200, 204, 404))


def _clear_task(airflow, run_id: str, task_id: str) -> set[str]:
    """The UI's Clear on one failed task with its downstream: POST /dags/{dag_id}/clearTaskInstances."""
    body = {"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "include_downstream": True,
            "only_failed": True}
    cleared = airflow.request("POST", f"/dags/{DAG_ID}/clearTaskInstances", json=body).json()["task_instances"]
    return {ti["task_id"] for ti in cleared}


def _scheduler_columns(stack, run_id: str) -> dict[str, tuple]:
    """Who queued each TI (a scheduler job) and the executor's id for it: columns the REST API does not show."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.sql_alchemy_conn)
    try:
        with engine.connect() as c:
            rows = c.execute(text("select task_id, queued_by_job_id, external_executor_id from task_instance "
                                  "where dag_id = :d and run_id = :r"), {"d": DAG_ID, "r": run_id}).all()
    finally:
        engine.dispose()
    return {r.task_id: (r.queued_by_job_id, r.external_executor_id) for r in rows}


def _executions(stack, run_id: str, count: int) -> list[dict]:
    """The run's OwnedDagRun executions (oldest first), once visibility lists `count` of them, all completed."""
    wid = workflow_id(DAG_ID, run_id)

    def listed():
        execs = list_executions(stack.temporal_address, wid)
        done = len(execs) == count and all(e["status"] == WorkflowExecutionStatus.COMPLETED for e in execs)
        return execs if done else None

    execs = wait_until(listed, 60, f"{count} completed executions of {wid}",
                       on_timeout=lambda: repr(list_executions(stack.temporal_address, wid)))
    assert all(e["type"] == OWNED_WORKFLOW_TYPE for e in execs), execs
    return sorted(execs, key=lambda e: _first_event_time(stack, wid, e["run_id"]))


def _history(stack, workflow_id: str, run_id: str) -> list:
    async def go():
        client = await Client.connect(stack.temporal_address, namespace="default")
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        return list(history.events)

    return asyncio.run(go())


def _first_event_time(stack, workflow_id: str, run_id: str):
    return _history(stack, workflow_id, run_id)[0].event_time.ToDatetime()


def _attempts(stack, run_id: str, execution: dict) -> dict[str, list[tuple[int, str | None]]]:
    """task_id -> [(try_number, how its activity closed)] for one execution of the run's workflow."""
    out: dict[str, list] = {}
    for a in activities(_history(stack, workflow_id(DAG_ID, run_id), execution["run_id"])):
        if a.activity_type == OWNED_TASK_ACTIVITY_TYPE:
            ti = a.input[0]["ti"]
            out.setdefault(ti["task_id"], []).append((ti["try_number"], a.closed))
    return {k: sorted(v) for k, v in out.items()}


def _failed_owned_run(stack, airflow, run_id: str, gate_variable: str) -> dict:
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    result = trigger_owned(stack, DAG_ID, "--wait", "--run-id", run_id,
                           "--conf", json.dumps({"gate_variable": gate_variable}))
    assert result.returncode == 1, describe(result)
    assert f"run {run_id} of DAG {DAG_ID} ended failed" in result.stderr, describe(result)
    run = airflow.run(DAG_ID, run_id)
    assert (run["run_type"], run["state"]) == ("external", "failed"), run
    assert _tis(airflow, run_id) == {"prepare": ("success", 1), "gate": ("failed", 1),
                                     "after": ("upstream_failed", 0), "parallel": ("success", 1)}
    return run


def _assert_airflows_scheduler_never_queued_it(stack, run_id: str, run: dict) -> None:
    assert run["last_scheduling_decision"] is None, run
    columns = _scheduler_columns(stack, run_id)
    assert all(v == (None, None) for v in columns.values()), f"TIs queued by Airflow's scheduler: {columns}"
    scheduler_log = stack.logs_dir / "airflow-scheduler.log"
    assert run_id not in scheduler_log.read_text(errors="replace"), f"the scheduler log mentions {run_id}"


def test_clearing_the_failed_task_of_a_failed_owned_run_resumes_it_in_temporal_and_only_the_cleared_tasks_run_again(
        stack, airflow):
    suffix = _suffix()
    run_id, gate = f"owned_clear_{suffix}", f"e2e_clear_gate_{suffix}"
    failed = _failed_owned_run(stack, airflow, run_id, gate)

    _set_variable(airflow, gate)  # the task can succeed now
    try:
        assert _clear_task(airflow, run_id, "gate") == {"gate", "after"}
        final = airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT,
                                     on_timeout=lambda: repr(_tis(airflow, run_id)))
    finally:
        _delete_variable(airflow, gate)

    assert (final["run_type"], final["state"]) == ("external", "success"), final
    # Resumed: started again after it had ended, and ended again.
    assert ts(final["start_date"]) > ts(failed["end_date"]), (failed, final)
    assert final["end_date"] and ts(final["end_date"]) >= ts(final["start_date"]), final
    assert _tis(airflow, run_id) == {"prepare": ("success", 1), "gate": ("success", 2), "after": ("success", 1),
                                     "parallel": ("success", 1)}
    assert _tries(airflow, run_id, "gate") == [(1, "failed"), (2, "success")]
    assert _tries(airflow, run_id, "prepare") == [(1, "success")]
    assert airflow.xcom(DAG_ID, run_id, "after") == "after: prepared, gate open on try 2"
    _assert_airflows_scheduler_never_queued_it(stack, run_id, final)

    first, resumed = _executions(stack, run_id, 2)
    assert _attempts(stack, run_id, first) == {"prepare": [(1, "completed")], "gate": [(1, "completed")],
                                               "parallel": [(1, "completed")]}
    assert _attempts(stack, run_id, resumed) == {"gate": [(2, "completed")], "after": [(1, "completed")]}

    # Resuming reused the run's workflow id; `trigger` still refuses the run id.
    again = trigger_owned(stack, DAG_ID, "--run-id", run_id)
    assert again.returncode != 0 and f"run {run_id} of DAG {DAG_ID} was already started" in again.stderr, \
        describe(again)
    assert len(list_executions(stack.temporal_address, workflow_id(DAG_ID, run_id))) == 2


def test_clearing_a_whole_failed_owned_run_through_the_rest_api_runs_every_task_again_at_its_next_try(
        stack, airflow):
    suffix = _suffix()
    run_id, gate = f"owned_clear_run_{suffix}", f"e2e_clear_gate_{suffix}"
    _failed_owned_run(stack, airflow, run_id, gate)

    _set_variable(airflow, gate)
    try:
        airflow.request("POST", f"/dags/{DAG_ID}/dagRuns/{airflow.q(run_id)}/clear",
                        json={"dry_run": False, "only_failed": False})
        final = airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT,
                                     on_timeout=lambda: repr(_tis(airflow, run_id)))
    finally:
        _delete_variable(airflow, gate)

    assert final["state"] == "success", final
    assert _tis(airflow, run_id) == {"prepare": ("success", 2), "gate": ("success", 2), "after": ("success", 1),
                                     "parallel": ("success", 2)}
    assert _tries(airflow, run_id, "parallel") == [(1, "success"), (2, "success")]
    _assert_airflows_scheduler_never_queued_it(stack, run_id, final)
    _, resumed = _executions(stack, run_id, 2)
    assert _attempts(stack, run_id, resumed) == {"prepare": [(2, "completed")], "gate": [(2, "completed")],
                                                 "after": [(1, "completed")], "parallel": [(2, "completed")]}


def test_clearing_a_failed_task_while_its_owned_run_still_runs_reruns_it_at_once_and_the_run_ends_by_its_new_states(
        stack, airflow):
    suffix = _suffix()
    run_id, gate, hold = f"owned_clear_live_{suffix}", f"e2e_clear_gate_{suffix}", f"e2e_clear_hold_{suffix}"
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    proc = start_owned(stack, DAG_ID, "--wait", "--run-id", run_id,
                       "--conf", json.dumps({"gate_variable": gate, "hold_variable": hold}))
    try:
        wait_until(lambda: _tis(airflow, run_id) == {"prepare": ("success", 1), "gate": ("failed", 1),
                                                     "after": ("upstream_failed", 0), "parallel": ("running", 1)},
                   RUN_TIMEOUT, "gate failed while parallel runs", interval=1,
                   on_timeout=lambda: repr(_tis(airflow, run_id)))
        _set_variable(airflow, gate)
        assert _clear_task(airflow, run_id, "gate") == {"gate", "after"}

        # The run stays running (Airflow leaves a running run so); its workflow reruns gate, then after,
        # while parallel is still held: no waiting for the rest of the run.
        wait_until(lambda: _tis(airflow, run_id)["after"] == ("success", 1), RUN_TIMEOUT,
                   "gate try 2 and after to succeed while parallel is held", interval=1,
                   on_timeout=lambda: repr(_tis(airflow, run_id)))
        assert _tis(airflow, run_id) == {"prepare": ("success", 1), "gate": ("success", 2), "after": ("success", 1),
                                         "parallel": ("running", 1)}
        assert airflow.run(DAG_ID, run_id)["state"] == "running"

        _set_variable(airflow, hold)  # parallel ends
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        assert proc.returncode == 0, out
        # The last line is the run's final state, with its task counts when the workflow still answered the query.
        assert out.rstrip().splitlines()[-1].split(":")[0] == "success", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        _delete_variable(airflow, gate)
        _delete_variable(airflow, hold)

    final = airflow.run(DAG_ID, run_id)
    assert (final["run_type"], final["state"]) == ("external", "success"), final
    assert _tis(airflow, run_id) == {"prepare": ("success", 1), "gate": ("success", 2), "after": ("success", 1),
                                     "parallel": ("success", 1)}
    _assert_airflows_scheduler_never_queued_it(stack, run_id, final)
    (only,) = _executions(stack, run_id, 1)  # the run's own workflow took the clear in
    assert _attempts(stack, run_id, only) == {"prepare": [(1, "completed")], "gate": [(1, "completed"),
                                              (2, "completed")], "after": [(1, "completed")],
                                              "parallel": [(1, "completed")]}
