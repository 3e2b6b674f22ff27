"""Tasks that wait without holding a worker, on Temporal-owned runs, as under LocalExecutor: sensors in
reschedule mode (a durable timer until the reschedule date, then the same try again), deferrable tasks
(Airflow's triggerer runs the trigger; the workflow queues the resumed try) and Human-in-the-loop tasks
(parked `awaiting_input` until a response arrives through the REST API).

Everything runs on the real stack (Airflow 3.3 scheduler, triggerer, api-server; Temporal dev server; the
worker JARs) and is checked through Airflow's REST API, the `task_reschedule` rows and Temporal's history.
"""
from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from temporalio.client import Client

from e2e_checks import RUN_TIMEOUT
from airflow_temporal_testing.owned import describe, owned_attempts, start_owned, trigger_owned, xcom_entries
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")


def _run_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _tis(airflow, dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
    return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in airflow.task_instances(dag_id, run_id)}


def _sql(stack, statement: str, params: dict) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.sql_alchemy_conn)
    try:
        with engine.connect() as c:
            return [tuple(r) for r in c.execute(text(statement), params).all()]
    finally:
        engine.dispose()


def _reschedules(stack, dag_id: str, run_id: str, task_id: str) -> list[tuple]:
    """The task_reschedule rows of a TI (written by the Execution API when the sensor reschedules)."""
    return _sql(stack, """
        select r.start_date, r.end_date, r.reschedule_date from task_reschedule r
          join task_instance t on t.id = r.ti_id
        where t.dag_id = :d and t.run_id = :r and t.task_id = :t order by r.id""",
                {"d": dag_id, "r": run_id, "t": task_id})


def _pending_activities(stack, workflow_id: str) -> list[str]:
    async def go():
        client = await Client.connect(stack.temporal_address, namespace="default")
        description = await client.get_workflow_handle(workflow_id).describe()
        return [p.activity_type.name for p in description.raw_description.pending_activities]

    return asyncio.run(go())


def _owned_run(stack, airflow, dag_id: str, run_id: str, conf: dict | None = None) -> dict:
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    result = trigger_owned(stack, dag_id, "--wait", "--run-id", run_id, "--conf", json.dumps(conf or {}))
    assert result.returncode == 0, describe(result)
    run = airflow.run(dag_id, run_id)
    assert (run["run_type"], run["state"]) == ("external", "success"), run
    return run


# ------------------------------------------------------------------------------------ reschedule mode
RESCHEDULE_DAG = "e2e_owned_reschedule"


def test_a_reschedule_sensor_pokes_at_one_try_until_ready_and_soft_fail_skips_it_past_its_timeout(stack, airflow):
    run_id = _run_id("reschedule")
    _owned_run(stack, airflow, RESCHEDULE_DAG, run_id)

    assert _tis(airflow, RESCHEDULE_DAG, run_id) == {
        "ready_after_three_pokes": ("success", 1), "after_sensor": ("success", 1),
        "never_ready": ("skipped", 1), "after_soft_fail": ("skipped", 0)}
    # Each poke that was not ready rescheduled the same try: one task_reschedule row each, as Airflow writes.
    reschedules = _reschedules(stack, RESCHEDULE_DAG, run_id, "ready_after_three_pokes")
    assert len(reschedules) == 3, reschedules
    # The next poke started no earlier than the reschedule date the previous one asked for.
    for (_, _, asked), (started, _, _) in zip(reschedules, reschedules[1:]):
        assert started >= asked, reschedules
    # The sensor's timeout counts from its first poke (it reads the first task_reschedule row): it gave up
    # after a few pokes and soft_fail skipped it.
    assert 1 <= len(_reschedules(stack, RESCHEDULE_DAG, run_id, "never_ready")) < 10
    xcoms = xcom_entries(airflow, RESCHEDULE_DAG, run_id)
    assert xcoms[("ready_after_three_pokes", -1, "return_value")] == 3
    assert xcoms[("after_sensor", -1, "return_value")] == "ready after 3 reschedules"
    tries = airflow.tries(RESCHEDULE_DAG, run_id, "ready_after_three_pokes")
    assert [(t["try_number"], t["state"]) for t in tries] == [(1, "success")]
    # Four pokes, four runners, all at try 1; between them the try held no worker.
    attempts = owned_attempts(stack.temporal_address, workflow_id(RESCHEDULE_DAG, run_id))
    assert attempts[("ready_after_three_pokes", -1)] == [(1, "completed")] * 4, attempts


RESCHEDULE_CLEAR_DAG = "e2e_owned_reschedule_clear"  # the sensor's second poke is due 60 s after its first


def _ended(stack, dag_id: str, run_id: str, task_id: str):
    [(end_date,)] = _sql(stack, "select end_date from task_instance where dag_id = :d and run_id = :r and task_id = :t",
                         {"d": dag_id, "r": run_id, "t": task_id})
    return end_date


def test_a_sensor_read_back_after_a_clear_still_pokes_at_its_reschedule_date(stack, airflow):
    dag_id, run_id = RESCHEDULE_CLEAR_DAG, _run_id("reschedule_clear")
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    started = trigger_owned(stack, dag_id, "--run-id", run_id)
    assert started.returncode == 0, describe(started)
    waiting = {"ready_on_second_poke": ("up_for_reschedule", 1), "other": ("success", 1)}
    wait_until(lambda: _tis(airflow, dag_id, run_id) == waiting, RUN_TIMEOUT, "the sensor to wait after its first poke",
               on_timeout=lambda: repr(_tis(airflow, dag_id, run_id)))
    [(_, _, asked)] = _reschedules(stack, dag_id, run_id, "ready_on_second_poke")

    # Clearing `other` while the run runs makes its workflow read the whole run back, the sensor included.
    body = {"dry_run": False, "dag_run_id": run_id, "task_ids": ["other"], "only_failed": False}
    cleared = airflow.request("POST", f"/dags/{dag_id}/clearTaskInstances", json=body).json()["task_instances"]
    assert {ti["task_id"] for ti in cleared} == {"other"}
    assert airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)["state"] == "success"

    assert _tis(airflow, dag_id, run_id) == {"ready_on_second_poke": ("success", 1), "other": ("success", 2)}
    # The read-back came before the reschedule date (other ran again after it), and the sensor still
    # poked only at that date, not at once.
    assert _ended(stack, dag_id, run_id, "other") < asked
    assert _ended(stack, dag_id, run_id, "ready_on_second_poke") >= asked


# ------------------------------------------------------------------------------------ deferrable tasks
DEFERRABLE_DAG = "e2e_owned_deferrable"
RESUMED_RESULT = "resumed on try 1 after deferring on try 1"


def _assert_deferrable_run_succeeded_at_try_one(stack, airflow, run_id: str) -> None:
    assert _tis(airflow, DEFERRABLE_DAG, run_id) == {
        "defer_and_return": ("success", 1), "time_delta": ("success", 1), "ended_by_trigger": ("success", 1),
        "started_in_triggerer": ("success", 1), "ended_in_triggerer": ("success", 1),
        "after_deferrals": ("success", 1), "times_out": ("skipped", 1)}
    xcoms = xcom_entries(airflow, DEFERRABLE_DAG, run_id)
    result = xcoms[("defer_and_return", -1, "return_value")]
    assert (result["deferred_on_try"], result["resumed_on_try"]) == (1, 1), result
    assert result["event"] not in ("", "None"), result  # the trigger's event reached the resumed task
    assert xcoms[("after_deferrals", -1, "return_value")] == RESUMED_RESULT
    assert [(t["try_number"], t["state"]) for t in airflow.tries(DEFERRABLE_DAG, run_id, "defer_and_return")] \
        == [(1, "success")]
    attempts = owned_attempts(stack.temporal_address, workflow_id(DEFERRABLE_DAG, run_id))
    # One runner deferred the try, a second one resumed it with the event.
    assert attempts[("defer_and_return", -1)] == [(1, "completed"), (1, "completed")], attempts
    # (time_delta defers only if its runner starts before run_after + 3 s: one or two runners, both at try 1.)
    assert attempts[("time_delta", -1)] in ([(1, "completed")], [(1, "completed"), (1, "completed")]), attempts
    # end_from_trigger: the triggerer ended the task; no runner resumed it.
    assert attempts[("ended_by_trigger", -1)] == [(1, "completed")], attempts
    # start_from_trigger: deferred by the workflow, no runner started it; one runner ran its execute_complete.
    assert attempts[("started_in_triggerer", -1)] == [(1, "completed")], attempts
    # start_from_trigger and end_from_trigger: no runner at all.
    assert ("ended_in_triggerer", -1) not in attempts, attempts
    # Timed out by the scheduler's check_trigger_timeouts: resumed once more, at try 1, to fail into soft_fail's skip.
    assert attempts[("times_out", -1)] == [(1, "completed"), (1, "completed")], attempts


def test_a_deferred_task_is_resumed_by_its_trigger_at_the_same_try(stack, airflow):
    run_id = _run_id("deferrable")
    _owned_run(stack, airflow, DEFERRABLE_DAG, run_id)
    _assert_deferrable_run_succeeded_at_try_one(stack, airflow, run_id)
    trigger_rows = _sql(stack, "select count(*) from task_instance where run_id = :r and trigger_id is not null",
                        {"r": run_id})
    assert trigger_rows == [(0,)]


def test_a_deferred_task_survives_a_kill_of_every_worker_and_of_the_triggerer(stack, airflow):
    """While the task is deferred (no activity in flight: the try holds no worker slot), and a task that starts in
    the triggerer is deferred too, every worker JVM and the triggerer are killed with SIGKILL and started again; the trigger fires, the workflow queues the
    resumed try, and the run succeeds with every task at try 1."""
    run_id = _run_id("deferrable_restart")
    airflow.wait_for_dag(DEFERRABLE_DAG)
    airflow.unpause(DEFERRABLE_DAG)
    waiting = start_owned(stack, DEFERRABLE_DAG, "--wait", "--run-id", run_id,
                          "--conf", json.dumps({"defer_seconds": 90}))
    try:
        wid = workflow_id(DEFERRABLE_DAG, run_id)

        def parked():
            states = _tis(airflow, DEFERRABLE_DAG, run_id)
            done = states.get("defer_and_return", (None, 0))[0] == "deferred" and \
                states.get("started_in_triggerer", (None, 0))[0] == "deferred" and \
                states.get("time_delta", (None, 0))[0] == "success" and \
                states.get("ended_by_trigger", (None, 0))[0] == "success"
            return done and not _pending_activities(stack, wid)

        wait_until(parked, RUN_TIMEOUT, "defer_and_return deferred, no activity in flight", interval=1,
                   on_timeout=lambda: repr((_tis(airflow, DEFERRABLE_DAG, run_id), _pending_activities(stack, wid))))
        workers = stack.workers_running()
        for worker in workers:
            stack.kill_worker(worker)
        stack.kill_airflow_component("triggerer")
        assert _tis(airflow, DEFERRABLE_DAG, run_id)["defer_and_return"] == ("deferred", 1)
        assert _tis(airflow, DEFERRABLE_DAG, run_id)["started_in_triggerer"] == ("deferred", 1)
        stack.start_airflow_component("triggerer")
        for worker in workers:
            stack.wait_worker_polling(stack.restart_worker(worker))

        final = airflow.wait_for_run(DEFERRABLE_DAG, run_id, timeout=RUN_TIMEOUT)
        assert final["state"] == "success", final
        waiting.wait(timeout=120)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    _assert_deferrable_run_succeeded_at_try_one(stack, airflow, run_id)


# ------------------------------------------------------------------------------------ Human-in-the-loop
HITL_DAG = "e2e_owned_hitl"


def test_an_approval_given_through_the_rest_api_resumes_the_run(stack, airflow):
    run_id = _run_id("hitl")
    airflow.wait_for_dag(HITL_DAG)
    airflow.unpause(HITL_DAG)
    waiting = start_owned(stack, HITL_DAG, "--wait", "--run-id", run_id)
    try:
        wid = workflow_id(HITL_DAG, run_id)
        wait_until(lambda: _tis(airflow, HITL_DAG, run_id).get("approve") == ("awaiting_input", 1)
                   and not _pending_activities(stack, wid), RUN_TIMEOUT, "approve awaiting input", interval=1,
                   on_timeout=lambda: repr(_tis(airflow, HITL_DAG, run_id)))
        path = f"/dags/{HITL_DAG}/dagRuns/{airflow.q(run_id)}/taskInstances/approve/-1/hitlDetails"
        assert airflow.get(path)["subject"] == "Ship it?"
        response = airflow.request("PATCH", path, json={"chosen_options": ["Approve"], "params_input": {}}).json()
        assert response["chosen_options"] == ["Approve"]

        final = airflow.wait_for_run(HITL_DAG, run_id, timeout=RUN_TIMEOUT)
        assert (final["run_type"], final["state"]) == ("external", "success"), final
        waiting.wait(timeout=120)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert _tis(airflow, HITL_DAG, run_id) == {"approve": ("success", 1), "after_approval": ("success", 1)}
    xcoms = xcom_entries(airflow, HITL_DAG, run_id)
    assert xcoms[("approve", -1, "return_value")]["chosen_options"] == ["Approve"]
    assert xcoms[("after_approval", -1, "return_value")] == "approved with ['Approve']"
    attempts = owned_attempts(stack.temporal_address, workflow_id(HITL_DAG, run_id))
    assert attempts[("approve", -1)] == [(1, "completed"), (1, "completed")], attempts
