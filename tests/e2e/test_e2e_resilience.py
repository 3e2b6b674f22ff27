"""What happens when things go wrong, on the real stack: scheduler restarts, tasks stuck in queued,
workers without the DAG file, bad worker configuration, Temporal unreachable from the executor."""
from __future__ import annotations

import re
import subprocess
import uuid

import pytest

from e2e_checks import (RUN_TIMEOUT, assert_attempt_activities, assert_log_contains, assert_one_workflow,
                        in_process_executor, run_dag)
from airflow_temporal_testing.temporal import history_events, task_activities
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import WorkerSpec, wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")


def test_a_scheduler_restart_adopts_the_running_attempt_instead_of_rerunning_it(stack, airflow):
    dag_id, task_id = "e2e_long_task", "long_sleep"
    marker_dir = stack.marker_dir / "adopt"
    run_id = airflow.trigger(dag_id, conf={"marker_dir": str(marker_dir)})["dag_run_id"]
    started = (marker_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)).with_suffix(".started")  # as the DAG names it
    wait_until(started.exists, RUN_TIMEOUT, f"{task_id} to start")

    scheduler = stack.restart_airflow_component("scheduler")

    final = airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert final["state"] == "success"
    ti = airflow.task_instance(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("success", 1), "the attempt was reset and re-run, not adopted"
    wid = assert_one_workflow(stack, dag_id, run_id)
    assert_attempt_activities(stack, wid, task_id, 1)
    assert "Adopted 1 task instances" in scheduler.log_path.read_text()


def test_a_task_stuck_in_queued_is_revoked_its_activity_cancelled_and_finally_failed(stack, airflow):
    dag_id, task_id = "e2e_queue_without_worker", "never_picked_up"
    run_id = run_dag(stack, dag_id, expect="failed")
    ti = airflow.task_instance(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("failed", 1)
    wid = assert_one_workflow(stack, dag_id, run_id)
    events = history_events(stack.temporal_address, wid)
    names = [e.event_type for e in events]
    from temporalio.api.enums.v1 import EventType

    scheduled = [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    # Airflow requeues a stuck task twice ([scheduler] num_stuck_in_queued_retries) before failing it:
    # each hand-back is a new activity, each revoke cancels the one before.
    assert len(scheduled) >= 2
    assert {e.activity_task_scheduled_event_attributes.task_queue.name for e in scheduled} == {"airflow:nowhere"}
    assert names.count(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED) == len(scheduled)
    assert names.count(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) == 0


def test_a_worker_without_the_dag_file_fails_the_task_with_the_reason_in_its_log(stack, airflow, tmp_path):
    empty = tmp_path / "no-dags"
    empty.mkdir()
    worker = stack.start_worker(WorkerSpec(queues="nodags", identity="worker-without-dags",
                                           env={"AIRFLOW__CORE__DAGS_FOLDER": str(empty)}))
    try:
        dag_id, task_id = "e2e_dag_missing_on_worker", "needs_its_dag_file"
        run_id = run_dag(stack, dag_id, expect="failed")
        assert airflow.task_instance(dag_id, run_id, task_id)["state"] == "failed"
        assert_log_contains(airflow, dag_id, run_id, task_id, 1, "Dag not found during start up")
        # Airflow's runner reschedules a task whose DAG it cannot find a few times (bundles may lag)
        # before failing it: every one of those attempts ran, and ended, on the worker without DAGs.
        wid = assert_one_workflow(stack, dag_id, run_id)
        activities = wait_until(
            lambda: (acts := task_activities(stack.temporal_address, wid, task_id)) and all(a.closed for a in acts)
            and acts, 120, "closed activities")
        assert {a.started_identity for a in activities} == {"worker-without-dags"}
    finally:
        stack.stop_process(worker)


def _worker_check(stack, *overrides: str) -> subprocess.CompletedProcess:
    """`worker check` with the stack's options, `overrides` (option, value, ...) replacing some."""
    argv = stack.worker_argv(WorkerSpec())
    argv[argv.index("worker")] = "check"
    for option, value in zip(overrides[::2], overrides[1::2]):
        if option in argv:
            argv[argv.index(option) + 1] = value
        else:  # the stack gives the worker its DB URL in the environment, not on its command line
            argv += [option, value]
    return subprocess.run(argv, env=stack.airflow_env(), capture_output=True, text=True, timeout=180)


def test_the_worker_check_passes_on_the_real_stack(stack):
    result = _worker_check(stack)
    assert result.returncode == 0, result.stderr
    # The readiness verdict of the worker's /readyz, from the same code (no pollers in a check).
    assert result.stdout.splitlines() == ["ready", "temporal: ok", "database: ok", "runner_server: ok"], result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("--db-url", "postgresql://airflow:hunter2@127.0.0.1:1/airflow"),
         "cannot connect to Airflow's metadata DB at jdbc:postgresql://127.0.0.1:1/airflow"),
        (("--address", "127.0.0.1:1"), "cannot reach Temporal at 127.0.0.1:1"),
        (("--namespace", "no-such-namespace"), "Temporal namespace 'no-such-namespace' does not exist"),
        (("--python", "/nonexistent/python3"), "--python '/nonexistent/python3' cannot run Airflow's task runner"),
    ],
    ids=["unreachable-db", "unreachable-temporal", "unknown-namespace", "missing-python"],
)
def test_a_worker_with_bad_configuration_exits_2_naming_the_setting(stack, overrides, message):
    result = _worker_check(stack, *overrides)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


def _workload(dag_id: str):
    from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO

    ti_id = uuid.uuid4()
    return ExecuteTask(
        ti=TaskInstanceDTO(id=ti_id, dag_version_id=uuid.uuid4(), task_id="t", dag_id=dag_id,
                           run_id=f"manual__{ti_id}", try_number=1, map_index=-1, pool_slots=1,
                           queue="default", priority_weight=1),
        dag_rel_path="none.py", token="not-a-token", bundle_info=BundleInfo(name="dags-folder", version=None),
        log_path=f"in_process/{ti_id}.log",
    )


def test_with_temporal_unreachable_workloads_stay_queued_and_nothing_is_lost(monkeypatch):
    executor = in_process_executor(monkeypatch, "127.0.0.1:1")
    try:
        workload = _workload("unreachable_temporal")
        executor.queued_tasks[workload.ti.key] = workload
        executor.heartbeat()
        assert workload.ti.key in executor.queued_tasks
        assert workload.ti.key not in executor.running
        assert executor.get_event_buffer() == {}
    finally:
        executor.terminate()


def test_a_heartbeat_only_queries_dag_runs_with_attempts_in_flight(stack, monkeypatch):
    executor = in_process_executor(monkeypatch, stack.temporal_address)
    queries: list[list[str]] = []
    real_progress = executor.workflows.progress
    executor.workflows.progress = lambda cursors: queries.append(list(cursors)) or real_progress(cursors)
    try:
        workloads = [_workload(f"sync_cost_{i}") for i in range(3)]
        for w in workloads:
            executor.queued_tasks[w.ti.key] = w
        executor.heartbeat()
        assert len(executor.active_runs) == 3
        # The runner fails fast (no such task instance); wait until every attempt is reported.
        wait_until(lambda: executor.sync() or all(w.ti.key in executor.event_buffer and
                                                 executor.event_buffer[w.ti.key][0] != "queued"
                                                 for w in workloads), 180, "three outcomes")
        assert executor.active_runs == {}
        queries.clear()
        for _ in range(5):
            executor.sync()
        assert queries == [], "finished DagRuns must cost nothing per heartbeat"
    finally:
        executor.end()


def test_an_owned_try_no_worker_picks_up_within_task_queued_timeout_fails_naming_its_queue(stack, airflow):
    """The Temporal-owned twin of the test above: the try's activity waits task_queued_timeout (30 s on
    this stack) for a worker of queue 'nowhere', times out before it starts, and is failed by Airflow's
    rules (no retries: failed), so the run fails instead of holding its pool slot forever."""
    from airflow_temporal_testing.owned import describe, trigger_owned
    from temporalio.api.enums.v1 import EventType, TimeoutType

    dag_id, task_id = "e2e_queue_without_worker", "never_picked_up"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)  # a paused DAG's owned run is refused
    result = trigger_owned(stack, dag_id)
    assert result.returncode == 0, describe(result)
    run_id = re.search(r"^Started run (\S+) of DAG", result.stdout, re.M).group(1)
    assert airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)["state"] == "failed"
    ti = airflow.task_instance(dag_id, run_id, task_id)
    assert (ti["state"], ti["try_number"]) == ("failed", 1)

    events = history_events(stack.temporal_address, workflow_id(dag_id, run_id))
    scheduled = [e.activity_task_scheduled_event_attributes for e in events
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                 and e.activity_task_scheduled_event_attributes.activity_type.name == "run_owned_task"]
    assert [(s.task_queue.name, s.schedule_to_start_timeout.seconds) for s in scheduled] == [("airflow:nowhere", 30)]
    timed_out = [e.activity_task_timed_out_event_attributes.failure.timeout_failure_info.timeout_type for e in events
                 if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT]
    assert timed_out == [TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START]
    started = [e.activity_task_started_event_attributes.scheduled_event_id for e in events
               if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                and e.event_id in started
                and e.activity_task_scheduled_event_attributes.activity_type.name == "run_owned_task"]

    worker_logs = "".join(p.log_path.read_text() for p in stack.procs if p.name.startswith("worker-"))
    assert (f"{task_id} try 1 was queued for longer than task_queued_timeout (30.0 s) and no worker picked it up "
            f"from task queue 'airflow:nowhere' (Airflow queue 'nowhere')") in worker_logs
