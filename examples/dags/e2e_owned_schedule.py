"""End-to-end test DAG: opts in to Temporal Schedules (tag `temporal`) with a daily cron; the test
unpauses it and triggers its Temporal Schedule `airflow-dag:e2e_owned_schedule` by hand."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule="0 3 * * *", start_date=datetime(2024, 1, 1), catchup=False, tags=["temporal", "e2e"])
def e2e_owned_schedule():
    @task
    def fired(**context) -> str:
        return context["logical_date"].isoformat()

    fired()


e2e_owned_schedule()
