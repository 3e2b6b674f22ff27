"""Assertions shared by the end-to-end tests: through Airflow's REST API and Temporal's history."""
from __future__ import annotations

from datetime import datetime

from airflow_temporal_testing.temporal import describe_activities, list_executions, task_activities
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import wait_until

RUN_TIMEOUT = 300


def run_dag(stack, dag_id: str, conf: dict | None = None, expect: str = "success") -> str:
    run = stack.airflow.trigger(dag_id, conf=conf)
    run_id = run["dag_run_id"]
    final = stack.airflow.wait_for_run(
        dag_id, run_id, timeout=RUN_TIMEOUT,
        on_timeout=lambda: f"TI states: {stack.airflow.ti_states(dag_id, run_id)}",
    )
    assert final["state"] == expect, (
        f"{dag_id} run {run_id} ended {final['state']}, TI states {stack.airflow.ti_states(dag_id, run_id)}"
    )
    return run_id


def assert_one_workflow(stack, dag_id: str, run_id: str) -> str:
    wid = workflow_id(dag_id, run_id)
    # Visibility is eventually consistent: wait until the execution is listed.
    executions = wait_until(lambda: list_executions(stack.temporal_address, wid), 60,
                            f"workflow {wid} in Temporal visibility")
    assert len(executions) == 1, f"expected exactly one workflow execution for {wid}, got {executions}"
    # No other workflow of this DAG claims this run under another id.
    return wid


def assert_attempt_activities(stack, wid: str, task_id: str, attempts: int):
    """Exactly `attempts` run_task activities for task_id, all closed.

    The runner reports the TI state to Airflow before it exits, so Airflow can show the run as
    finished a moment before the last activity closes (and ActivityTaskStarted, which carries the
    worker identity, is only written when the activity closes): wait for closure first.
    """
    def settled():
        acts = task_activities(stack.temporal_address, wid, task_id)
        return acts if len(acts) >= attempts and all(a.closed for a in acts) else None

    try:
        acts = wait_until(settled, 120, f"{attempts} closed run_task activities for {task_id}")
    except Exception:  # noqa: BLE001 - report what there is
        acts = task_activities(stack.temporal_address, wid, task_id)
    assert len(acts) == attempts and all(a.closed for a in acts), (
        f"{task_id}: expected {attempts} closed run_task activities, got "
        f"{[(a.activity_id, a.closed) for a in acts]}\n{describe_activities(stack.temporal_address, wid)}"
    )
    return acts


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_log_contains(airflow, dag_id, run_id, task_id, try_number, text):
    log = airflow.log_text(dag_id, run_id, task_id, try_number)
    assert log.strip(), f"empty log for {task_id} try {try_number}"
    assert text in log, f"{text!r} not in the log of {task_id} try {try_number}:\n{log[-3000:]}"


def in_process_executor(monkeypatch, address: str):
    """A TemporalExecutor in this test process, configured as the scheduler's but for Temporal at `address`."""
    monkeypatch.setenv("AIRFLOW__TEMPORAL__ADDRESS", address)
    monkeypatch.setenv("AIRFLOW__TEMPORAL__RPC_TIMEOUT", "3")
    from airflow_temporal.executors.temporal_executor import TemporalExecutor

    executor = TemporalExecutor()
    executor.start()
    return executor
