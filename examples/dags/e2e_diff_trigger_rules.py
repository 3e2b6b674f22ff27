"""Differential test DAG (executor mode vs Temporal-owned mode): Airflow's trigger rules around a failure.

`boom` fails (no retries) beside `ok`; one downstream per trigger rule decides on (ok, boom), and
`cascade` (all_success) sits under the upstream_failed `on_all_success`. Both modes must end with the
same TI states, tries and XComs. max_active_tasks keeps the twelve-task fan-out to three runners at once.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import TriggerRule, dag, task

RULES = [
    "all_success", "all_failed", "all_done", "all_done_min_one_success", "all_skipped", "one_success",
    "one_failed", "one_done", "none_failed", "none_failed_min_one_success", "none_skipped", "always",
]


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, max_active_tasks=3, tags=["e2e"])
def e2e_diff_trigger_rules():
    @task
    def ok() -> str:
        return "ok"

    @task(retries=0)
    def boom() -> None:
        raise RuntimeError("boom fails on purpose")

    up = [ok(), boom()]
    downstream = {}
    for rule in RULES:
        @task(task_id=f"on_{rule}", trigger_rule=TriggerRule(rule))
        def decide(rule: str = rule) -> str:
            return f"ran under {rule}"

        downstream[rule] = decide()
        up >> downstream[rule]

    @task(trigger_rule=TriggerRule.ALL_SUCCESS)
    def cascade() -> str:
        return "never"

    downstream["all_success"] >> cascade()


e2e_diff_trigger_rules()
