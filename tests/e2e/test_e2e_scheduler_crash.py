"""`kill -9` of the scheduler in executor mode, on the real stack.

Twice: in the crash window of Airflow issue #58570 (the executor handed the attempt to Temporal, the
scheduler died before it processed the QUEUED event), injected deterministically by a test-only
executor subclass (tests/e2e/support/crash_after_submit.py); and while the attempt runs. Either way the
restarted scheduler adopts the attempt by the external_executor_id it committed with QUEUED: the task
runs once, at try 1, and the run succeeds.
"""
from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from e2e_checks import RUN_TIMEOUT, assert_attempt_activities, assert_one_workflow
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

DAG_ID, TASK_ID = "e2e_scheduler_crash", "hold"
SUPPORT = Path(__file__).resolve().parent / "support"
# The restarted scheduler takes over the dead one's TIs once its heartbeat is this old (Airflow's default
# is 30 s), looking every 5 s instead of every 300 s.
ADOPTING_SCHEDULER_ENV = {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "20",
                          "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "5"}


def _marker_base(marker_dir: Path, run_id: str) -> Path:
    return marker_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)  # as the DAG names it


def _attempts(base: Path) -> list[dict]:
    """The attempts that ran, from the DAG's marker lines: try, pid, start and end (None if it never ended)."""
    attempts: dict[int, dict] = {}
    path = base.with_suffix(".jsonl")
    for line in path.read_text().splitlines() if path.exists() else []:
        event = json.loads(line)
        attempt = attempts.setdefault(event["pid"], {"try": event["try"], "pid": event["pid"], "end": None})
        attempt[event["event"]] = event["t"]
    return sorted(attempts.values(), key=lambda a: a["start"])


def _scheduler_log(stack) -> Path:
    return stack.logs_dir / "airflow-scheduler.log"


def _log_since(path: Path, offset: int) -> str:
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


def _restart_adopting_scheduler_and_release(stack, airflow, run_id: str, base: Path):
    offset = _scheduler_log(stack).stat().st_size
    stack.start_airflow_component("scheduler", env=ADOPTING_SCHEDULER_ENV)
    adopted_or_reset = re.compile(
        r"Adopted (\d+) task instances .*\((\d+) not yet confirmed"
        rf"|Reset the following \d+ orphaned TaskInstances:(\s+<TaskInstance: [^>]*>)*?\s+<TaskInstance: "
        rf"{DAG_ID}\.{TASK_ID} {re.escape(run_id)}")
    took_over = wait_until(lambda: adopted_or_reset.search(_log_since(_scheduler_log(stack), offset)),
                           RUN_TIMEOUT, "the restarted scheduler to adopt or reset the orphaned task instance")
    still_running = _attempts(base)[-1]["end"] is None
    base.with_suffix(".release").write_text("")
    assert took_over.groups()[:2] == ("1", "0"), f"not adopted: {took_over.group(0)}"
    assert still_running, "the attempt ended before the adoption it was meant to test"
    return airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT,
                                on_timeout=lambda: f"TI states: {airflow.ti_states(DAG_ID, run_id)}")


def _assert_ran_once_at_try_1(stack, airflow, run_id: str, base: Path, final: dict):
    assert final["state"] == "success"
    ti = airflow.task_instance(DAG_ID, run_id, TASK_ID)
    assert (ti["state"], ti["try_number"]) == ("success", 1), "the attempt was reset and run again, not adopted"
    assert set(airflow.ti_states(DAG_ID, run_id).values()) == {"success"}, "a TI was left queued or running"
    attempts = _attempts(base)
    assert [(a["try"], a["end"] is not None) for a in attempts] == [(1, True)], (
        f"expected one attempt, try 1, that ended; the task's markers say {attempts}")
    assert_attempt_activities(stack, assert_one_workflow(stack, DAG_ID, run_id), TASK_ID, 1)


@pytest.fixture
def scheduler_left_running(stack):
    """Whatever a test does to the scheduler, the tests after it find one running."""
    yield
    if not any(p.name == "airflow-scheduler" and p.popen.poll() is None for p in stack.procs):
        for dead in [p for p in stack.procs if p.name == "airflow-scheduler"]:
            stack.stop_process(dead)
        stack.start_airflow_component("scheduler")


@pytest.mark.usefixtures("scheduler_left_running")
def test_a_scheduler_killed_between_submitting_and_recording_queued_leaves_a_task_that_runs_once(stack, airflow):
    marker_dir = stack.marker_dir / "crash-after-submit"
    stack.stop_process(next(p for p in stack.procs if p.name == "airflow-scheduler"))
    offset = _scheduler_log(stack).stat().st_size
    crashing = stack.start_airflow_component("scheduler", env={
        "AIRFLOW__CORE__EXECUTOR": "crash_after_submit.CrashAfterSubmitExecutor",
        "AT_E2E_CRASH_AFTER_SUBMIT_DAG": DAG_ID,
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), stack.airflow_env()["PYTHONPATH"]]),
    })
    try:
        run_id = airflow.trigger(DAG_ID, conf={"marker_dir": str(marker_dir)})["dag_run_id"]
        code = wait_until(crashing.popen.poll, RUN_TIMEOUT, "the scheduler to kill itself right after submitting")
    finally:
        stack.stop_process(crashing)  # dead by now (then only forgotten), or it never crashed
    crashed_log = _log_since(_scheduler_log(stack), offset)
    assert code == -signal.SIGKILL, f"the scheduler exited {code}, not by the injected SIGKILL:\n{crashed_log[-3000:]}"
    assert "before it processes the QUEUED event" in crashed_log
    assert not re.search(rf"Setting external_executor_id for <TaskInstance: {DAG_ID}\.{TASK_ID}", crashed_log), (
        "the QUEUED event was processed before the crash: the fault hit the wrong moment")
    base = _marker_base(marker_dir, run_id)
    wait_until(lambda: _attempts(base), RUN_TIMEOUT, f"{TASK_ID} to start with no scheduler up")

    final = _restart_adopting_scheduler_and_release(stack, airflow, run_id, base)

    _assert_ran_once_at_try_1(stack, airflow, run_id, base, final)


@pytest.mark.usefixtures("scheduler_left_running")
def test_a_scheduler_killed_while_the_attempt_runs_adopts_it_and_it_finishes_at_try_1(stack, airflow):
    marker_dir = stack.marker_dir / "kill-mid-attempt"
    run_id = airflow.trigger(DAG_ID, conf={"marker_dir": str(marker_dir)})["dag_run_id"]
    base = _marker_base(marker_dir, run_id)
    wait_until(lambda: _attempts(base), RUN_TIMEOUT, f"{TASK_ID} to start")

    stack.kill_airflow_component("scheduler")
    final = _restart_adopting_scheduler_and_release(stack, airflow, run_id, base)

    _assert_ran_once_at_try_1(stack, airflow, run_id, base, final)
