"""Differential test DAG: @task.branch follows path_a (path_b is skipped); the join runs under
none_failed_min_one_success."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import TriggerRule, dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_branch():
    @task.branch
    def choose() -> str:
        return "path_a"

    @task
    def path_a() -> str:
        return "a"

    @task
    def a_next(x: str) -> str:
        return x + "a"

    @task
    def path_b() -> str:
        return "b"

    @task
    def b_next(x: str) -> str:
        return x + "b"

    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def join() -> str:
        return "joined"

    a, b = path_a(), path_b()
    choose() >> [a, b]
    [a_next(a), b_next(b)] >> join()


e2e_diff_branch()
