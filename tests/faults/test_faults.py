"""The fault suite (issue 11): crashes and outages on the real stack while attempts run, each with one
executor-mode and one Temporal-owned run of `e2e_faults_parallel` in flight through the same fault.

Every scenario checks, for both runs (fault_expectations.check_run):
- the final run state and each TI's state and try are those of an undisturbed run (all success at try 1)
  or, where an attempt was truly lost (its process died: a start marker and no end), exactly what
  Airflow's retry rules give: `retrying` (retries=1) succeeds at try 2, `steady` (no retries) fails at
  try 1 and `downstream` is upstream_failed; whether a scenario may lose an attempt at all is written
  in it (`allow_loss`);
- no task instance is left queued or running;
- no two attempts of one task instance overlapped (by the start/end markers and process liveness);
- a lost attempt is decided by Airflow within 60 s of its runner's death, and never while its runner
  still lives (figure in the summary table);
- no runner process survives the runs.
Scenario 5 (the scheduler killed) is tested elsewhere.
"""
from __future__ import annotations

import time

from fault_scenario import WORKERS, Scenario, summary_table, use_workers, worker
from airflow_temporal_testing.stack import StackError

RESTART_AFTER = 20  # s: scenario 1
TEMPORAL_OUTAGE = 90  # s: scenario 3
POSTGRES_OUTAGE = 30  # s: scenario 4
DRAIN_TIMEOUT = 300  # s for a drained worker to exit once its attempts ended (scenario 6)
# How long the first tries of the parallel tasks work (all longer than the 20 s heartbeat timeout).
# A killed worker's runners would outlive the kill by well over the 60 s in which a loss must be noticed
# (at 925b2c6 "worker lost" came 66-137 s after the kill on a loaded machine), so a runner given up while it
# still works is caught; through a Temporal outage they work on until after Temporal is back.
WORKER_KILL_TASK_SECONDS = 150
TEMPORAL_OUTAGE_TASK_SECONDS = TEMPORAL_OUTAGE + 30
TASK_SECONDS = 45


def _assert_none(problems: list[str], rows: list[dict]) -> None:
    assert not problems, "\n".join(problems) + "\n\n" + summary_table(rows)


def test_1_a_worker_killed_and_restarted_after_20s_loses_no_attempt_whose_runner_lives(stack, rows):
    """kill -9 of the only worker JVM mid-attempt, the same worker started again 20 s later. An attempt
    may be lost only with its runner (then Airflow's retry rules apply); a runner that lives on finishes
    its attempt."""
    use_workers(stack, ["a"])
    sc = Scenario(stack, "1 worker kill -9, restart after 20 s", allow_loss=True,
                  seconds=WORKER_KILL_TASK_SECONDS, rows=rows)
    sc.start_runs()
    a = worker(stack, "a")
    sc.fault_at = stack.kill_worker(a)
    time.sleep(RESTART_AFTER)
    stack.wait_worker_polling(stack.restart_worker(a))
    _assert_none(sc.finish(), rows)


def test_2_a_worker_killed_for_good_while_another_serves_the_queue(stack, rows):
    """kill -9 of the worker running every attempt (the only one when they started), never restarted,
    while a second worker serves the same queue; it takes what is left (the same rule on lost attempts
    as scenario 1)."""
    use_workers(stack, ["a"])
    sc = Scenario(stack, "2 worker kill -9, second worker serves", allow_loss=True,
                  seconds=WORKER_KILL_TASK_SECONDS, rows=rows)
    sc.start_runs()
    a = worker(stack, "a")
    # Serving before the kill: the time to notice the loss must not include a worker's start-up.
    stack.wait_worker_polling(stack.start_worker(WORKERS["b"]))
    sc.fault_at = stack.kill_worker(a)
    sc.notes.append(f"{len(sc.attempts_on(a))} attempts on the killed worker")
    _assert_none(sc.finish(), rows)


def test_6_sigterm_drains_the_worker_and_fails_nothing(stack, rows):
    """SIGTERM to the worker running every attempt as another one starts (a rolling deploy): it stops
    polling, lets its attempts finish (within --shutdown-grace, default 10 min), then exits; the new
    worker runs `downstream`. No attempt may be lost."""
    use_workers(stack, ["b"])
    sc = Scenario(stack, "6 worker SIGTERM (drain)", allow_loss=False, seconds=TASK_SECONDS, rows=rows)
    sc.start_runs()
    b = worker(stack, "b")
    stack.start_worker(WORKERS["a"])  # a rolling deploy: the new worker polls once its start-up checks are done
    sc.fault_at = stack.sigterm_worker(b)
    problems = []
    try:
        code = stack.wait_exited(b, TASK_SECONDS + DRAIN_TIMEOUT)
        exited_at = time.time()
        sc.notes.append(f"drained worker exited {code} after {exited_at - sc.fault_at:.0f}s")
    except StackError as exc:
        problems.append(str(exc))
        exited_at = stack.kill_worker(b)
    problems += sc.finish()
    on_b = sc.attempts_on(b)
    late = [f"{x.task_id} try {x.try_number}" for x in on_b if x.start > sc.fault_at]
    if late:
        problems.append(f"attempts started on the draining worker after its SIGTERM: {late}")
    outlived = [f"{x.run_id}/{x.task_id} try {x.try_number}" for x in on_b
                if x.start < sc.fault_at and (x.died_at is None or x.died_at > exited_at)]
    if outlived:
        problems.append(f"the drained worker exited before these attempts of its own ended: {outlived}")
    _assert_none(problems, rows)


def test_3_a_90s_temporal_outage_loses_no_attempt(stack, rows):
    """The Temporal dev server stopped for 90 s mid-attempt, then started on the same database: runners
    keep working through the outage and report when Temporal is back. No attempt may be lost."""
    use_workers(stack, ["a"])
    sc = Scenario(stack, "3 Temporal down 90 s", allow_loss=False, seconds=TEMPORAL_OUTAGE_TASK_SECONDS, rows=rows)
    sc.start_runs()
    sc.fault_at = time.time()
    stack.stop_temporal()
    time.sleep(max(0.0, sc.fault_at + TEMPORAL_OUTAGE - time.time()))
    stack.start_temporal_again()
    _assert_none(sc.finish(), rows)


def test_4_a_30s_postgres_crash_loses_at_most_what_airflow_itself_would(stack, rows):
    """PostgreSQL stopped with `-m immediate` for 30 s mid-run, then started again. The Execution API
    fails meanwhile, so Airflow's own task supervisor may give an attempt up (max_failed_heartbeats):
    such a loss gets Airflow's retry rules. Airflow components that exit are started again, as their
    service manager would; a worker that exits is a problem."""
    use_workers(stack, ["a"])
    sc = Scenario(stack, "4 PostgreSQL down 30 s", allow_loss=True, seconds=TASK_SECONDS, rows=rows)
    sc.start_runs()
    sc.fault_at = time.time()
    stack.stop_postgres_immediately()
    time.sleep(POSTGRES_OUTAGE)
    stack.start_postgres_again()
    problems = []
    restarted = stack.restart_exited_airflow_components()
    if restarted:
        sc.notes.append(f"restarted {restarted}")
    dead = [p for p in stack.procs if p.spec is not None and p.popen.poll() is not None]
    for p in dead:
        problems.append(f"{p.name} exited ({stack.wait_exited(p, 1)}) during the outage")
        stack.wait_worker_polling(stack.restart_worker(p))
    problems += sc.finish()
    _assert_none(problems, rows)
