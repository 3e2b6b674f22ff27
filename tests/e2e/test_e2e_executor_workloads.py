"""Executor mode runs every workload Airflow 3.3 hands an executor, on a real stack: a sensor in reschedule
mode (the same try queued again per poke), executor callbacks (ExecuteCallback) and connection tests
(TestConnection). Assertions go through Airflow's REST API, the stack's PostgreSQL (for what the REST API
does not show: task_reschedule rows) and Temporal's histories."""
from __future__ import annotations

import re
import uuid

import pytest
from temporalio.api.enums.v1 import EventType

from e2e_checks import assert_one_workflow, run_dag
from airflow_temporal_testing.temporal import history_events, task_activities
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")


def _scalar(stack, sql: str, **params):
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.sql_alchemy_conn)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def test_a_reschedule_sensor_pokes_three_times_at_try_one_and_succeeds(stack, airflow):
    dag_id = "e2e_reschedule_sensor"
    run_id = run_dag(stack, dag_id)

    ti = airflow.task_instance(dag_id, run_id, "wait")
    assert (ti["state"], ti["try_number"]) == ("success", 1), ti
    tries = airflow.tries(dag_id, run_id, "wait")
    assert [(t["try_number"], t["state"]) for t in tries] == [(1, "success")], tries
    # Two pokes rescheduled the try, the third succeeded.
    assert _scalar(stack, "SELECT count(*) FROM task_reschedule WHERE ti_id = :ti_id", ti_id=ti["id"]) == 2
    wid = assert_one_workflow(stack, dag_id, run_id)
    # Three pokes ran (each counts itself in a marker file), each as one completed run_task activity of try 1.
    # A queueing Airflow revoked for being stuck in queued (task_queued_timeout is 30 s on this stack, and a cold
    # worker can be that slow to pick up the first one) is not a poke: the workflow asked to cancel its activity.
    assert len(list((stack.marker_dir / "reschedule_sensor" / run_id.replace(":", "_")).iterdir())) == 3
    activities = wait_until(lambda: (acts := task_activities(stack.temporal_address, wid, "wait"))
                            and all(a.closed for a in acts) and acts, 120, "the sensor's closed activities")
    revoked = {e.activity_task_cancel_requested_event_attributes.scheduled_event_id
               for e in history_events(stack.temporal_address, wid)
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED}
    assert [a.closed for a in activities if a.scheduled_event_id not in revoked] == ["completed"] * 3, activities

def _workload_activities(stack, wid: str):
    from airflow_temporal_testing.temporal import activities, history_events

    return [a for a in activities(history_events(stack.temporal_address, wid)) if a.activity_type == "run_workload"]


def _log_text(stack, *names: str) -> str:
    return "\n".join(p.read_text(errors="replace") for p in stack.log_files() if any(n in p.name for n in names))


def test_a_deadline_callback_runs_through_the_executor_and_a_dag_callback_in_the_dag_processor(stack, airflow):
    dag_id = "e2e_executor_callbacks"
    run_id = run_dag(stack, dag_id)
    markers = stack.marker_dir / "callbacks"
    safe_run_id = run_id.replace(":", "_")

    deadline_marker = wait_until(lambda: (m := markers / f"deadline_missed-{safe_run_id}").exists() and m, 120,
                                 "the deadline callback's marker")
    assert deadline_marker.read_text().startswith("sync callback ran"), deadline_marker.read_text()
    # The scheduler handed it to the TemporalExecutor and recorded the outcome the executor reported. (The callback
    # row itself goes with the run's deadline once the run has finished, so the scheduler's log is what is left.)
    handed = wait_until(lambda: re.search(r"Handed deadline_missed to Temporal as workflow (callback:(\S+))",
                                          _log_text(stack, "scheduler")), 60, "the callback handed to Temporal")
    wid, callback_id = handed.group(1), handed.group(2)
    wait_until(lambda: f"Callback {callback_id} completed successfully" in _log_text(stack, "scheduler"), 60,
               "the scheduler recording the callback's success")
    # It ran as the one activity of its own workflow, on a worker, and its output is in Airflow's callback log file.
    (activity,) = wait_until(lambda: [a for a in _workload_activities(stack, wid) if a.closed], 60,
                             f"the run_workload activity of {wid}")
    assert activity.closed == "completed" and activity.started_identity, activity
    log_file = stack.airflow_home / "logs" / "executor_callbacks" / dag_id / run_id / callback_id
    assert "deadline missed for" in log_file.read_text(), log_file.read_text()[-2000:]

    # The DAG's own on_success_callback is not an executor workload in Airflow 3.3: the dag-processor runs it.
    wait_until(lambda: (markers / f"on_success-{safe_run_id}").exists(), 120, "the on_success_callback marker")


def _test_connection(airflow, connection_id: str, path: str, password: str) -> dict:
    queued = airflow.request("POST", "/connections/enqueue-test", expect=(202,), json={
        "connection_id": connection_id, "conn_type": "fs", "password": password,
        "extra": f'{{"path": "{path}"}}'}).json()
    token = queued["token"]

    def finished():
        status = airflow.get("/connections/enqueue-test", headers={"Airflow-Connection-Test-Token": token})
        return status if status["state"] in ("success", "failed") else None

    return wait_until(finished, 120, f"the connection test of {connection_id}")


def test_a_connection_test_runs_on_a_worker_without_its_password_in_temporal_or_the_logs(stack, airflow, tmp_path):
    password = f"conn-secret-{uuid.uuid4().hex}"
    existing = _test_connection(airflow, "e2e_fs_exists", str(tmp_path), password)
    missing = _test_connection(airflow, "e2e_fs_missing", str(tmp_path / "absent"), password)

    assert (existing["state"], existing["result_message"]) == ("success", f"Path {tmp_path} is existing."), existing
    assert missing["state"] == "failed" and "does not exist" in missing["result_message"], missing
    test_ids = [_scalar(stack, "SELECT id FROM connection_test_request WHERE token = :token", token=t["token"])
                for t in (existing, missing)]
    for test_id in test_ids:
        wid = f"connection-test:{test_id}"
        (activity,) = wait_until(lambda: [a for a in _workload_activities(stack, wid) if a.closed], 60,
                                 f"the run_workload activity of {wid}")
        assert activity.closed == "completed" and activity.started_identity, activity
        from airflow_temporal_testing.temporal import history_events

        assert password not in str(history_events(stack.temporal_address, wid))
    assert password not in _log_text(stack, "scheduler", "worker-", "api-server")
