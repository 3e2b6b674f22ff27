"""corpus_runs.timeout_explained, on runs as the REST API shows them (no stack): which differences a
dagrun_timeout excuses, and that nothing else is excused."""
from __future__ import annotations

from datetime import timedelta

from corpus_runs import ModeRun, timeout_explained
from airflow_temporal_testing.owned import RunOutcome

TIMEOUT = timedelta(minutes=4)
START = "2026-01-01T00:00:00Z"


def _run(mode: str, state: str, ended: str, tis: dict, xcoms: dict | None = None) -> ModeRun:
    run = ModeRun("example_passing_params_via_test_command", mode, f"corpus_{mode}__x")
    run.outcome = RunOutcome(state, tis, xcoms or {}, {"start_date": START, "end_date": ended}, [], {})
    return run


TIMED_OUT = _run("local", "failed", "2026-01-01T00:04:01.5Z",
                 {("run_this", -1): ("skipped", 0), ("also_run_this", -1): ("skipped", 0)})
RAN = _run("owned", "success", "2026-01-01T00:01:00Z",
           {("run_this", -1): ("success", 1), ("also_run_this", -1): ("success", 1)},
           {("run_this", -1, "return_value"): "x"})


def _keys(diffs) -> set:
    return {(d.task_id, d.what) for d in diffs}


def test_a_run_that_timed_out_excuses_the_run_state_and_every_field_of_the_tasks_it_skipped():
    assert _keys(timeout_explained(TIMED_OUT, RAN, TIMEOUT)) == {
        (None, "run state"), ("run_this", "state"), ("run_this", "try_number"), ("run_this", "xcom:return_value"),
        ("also_run_this", "state"), ("also_run_this", "try_number")}


def test_a_failed_run_that_ended_within_the_timeout_did_not_time_out_and_excuses_nothing():
    early = _run("local", "failed", "2026-01-01T00:03:59Z", TIMED_OUT.outcome.tis)
    assert timeout_explained(early, RAN, TIMEOUT) == []
    assert timeout_explained(TIMED_OUT, RAN, None) == [], "a DAG without a dagrun_timeout"


def test_a_task_that_did_not_end_skipped_in_the_timed_out_run_is_not_excused():
    failed_first = _run("local", "failed", "2026-01-01T00:04:01Z",
                        {("run_this", -1): ("failed", 1), ("also_run_this", -1): ("skipped", 0)})
    assert _keys(timeout_explained(failed_first, RAN, TIMEOUT)) == {
        (None, "run state"), ("also_run_this", "state"), ("also_run_this", "try_number")}


def test_two_runs_that_both_timed_out_excuse_the_fields_of_what_either_skipped():
    other = _run("owned", "failed", "2026-01-01T00:04:02Z",
                 {("run_this", -1): ("success", 1), ("also_run_this", -1): ("skipped", 0)})
    assert _keys(timeout_explained(TIMED_OUT, other, TIMEOUT)) == {("run_this", "state"), ("run_this", "try_number")}
