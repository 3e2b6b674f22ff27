"""End-to-end test DAG: its task uses the pool `e2e_no_such_pool`, which never exists, so a
Temporal-owned run of it is refused at trigger time."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_missing_pool():
    @task(pool="e2e_no_such_pool")
    def needs_missing_pool() -> str:
        return "never"

    needs_missing_pool()


e2e_owned_missing_pool()
