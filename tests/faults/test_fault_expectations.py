"""The fault suite's own rules, without a stack: what Airflow's retry rules expect after lost attempts,
and that overlapping or doubled attempts are caught."""
from __future__ import annotations

from collections import Counter

from fault_expectations import expected_outcome, overlaps
from fault_watch import Attempt


def _attempt(task_id: str, try_number: int, pid: int, start: float, end: float | None = None,
             first_seen_dead: float | None = None) -> Attempt:
    return Attempt("run", task_id, try_number, pid, starttime=1, start=start, end=end, last_beat=start,
                   last_seen_alive=start, first_seen_dead=first_seen_dead)


def test_an_undisturbed_run_succeeds_at_try_1_everywhere():
    assert expected_outcome(Counter()) == (
        "success", {"steady": ("success", 1), "retrying": ("success", 1), "downstream": ("success", 1)})


def test_a_lost_attempt_costs_one_try_and_fails_a_task_without_retries():
    assert expected_outcome(Counter({"steady": 1, "retrying": 1})) == (
        "failed", {"steady": ("failed", 1), "retrying": ("success", 2), "downstream": ("upstream_failed", 0)})


def test_a_task_out_of_retries_fails_at_its_last_try():
    assert expected_outcome(Counter({"retrying": 2}))[1]["retrying"] == ("failed", 2)


def test_a_retry_starting_before_the_killed_try_died_is_an_overlap():
    killed = _attempt("retrying", 1, 10, start=0, first_seen_dead=50)
    retry = _attempt("retrying", 2, 11, start=48, end=58)
    assert overlaps([killed, retry], now=100) == [
        "retrying: try 2 (pid 11) started 2.0s before try 1 (pid 10) ended"]


def test_a_retry_after_the_killed_try_died_is_no_overlap():
    killed = _attempt("retrying", 1, 10, start=0, first_seen_dead=50)
    retry = _attempt("retrying", 2, 11, start=51, end=61)
    assert overlaps([killed, retry], now=100) == []


def test_a_killed_try_still_alive_overlaps_every_later_try():
    orphan = _attempt("steady", 1, 10, start=0)
    assert overlaps([orphan, _attempt("steady", 2, 11, start=90, end=95)], now=100)


def test_one_try_number_run_twice_is_caught():
    first = _attempt("steady", 1, 10, start=0, end=10)
    again = _attempt("steady", 1, 11, start=20, end=30)
    assert overlaps([first, again], now=100) == ["steady: try [1] ran more than once"]
