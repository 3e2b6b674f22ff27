"""Differential test DAG: @task.short_circuit returns False, so everything downstream is skipped
(also the all_done task: ignore_downstream_trigger_rules defaults to True); `beside` still runs."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import TriggerRule, dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_short_circuit():
    @task.short_circuit
    def gate() -> bool:
        return False

    @task
    def next_1() -> str:
        return "never"

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def next_2() -> str:
        return "never either"

    @task
    def beside() -> str:
        return "beside"

    gate() >> next_1() >> next_2()
    beside()


e2e_diff_short_circuit()
