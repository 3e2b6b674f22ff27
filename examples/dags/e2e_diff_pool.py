"""Differential test DAG: three independent tasks in the 1-slot pool `e2e_diff_pool` (the test creates
it): they must run one at a time."""
from __future__ import annotations

import time
from datetime import datetime

from airflow.sdk import dag, task

POOL = "e2e_diff_pool"


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_pool():
    for i in range(3):
        @task(task_id=f"pooled_{i}", pool=POOL)
        def pooled(i: int = i) -> int:
            time.sleep(2)
            return i

        pooled()


e2e_diff_pool()
