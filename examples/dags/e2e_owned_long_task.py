"""End-to-end test DAG for Temporal-owned runs: `warm_up`, then `long_sleep` (conf `seconds`, default
60) printing a line per second, then `after`. Used to watch a run while it is in flight."""
from __future__ import annotations

import time
from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_long_task():
    @task
    def warm_up() -> str:
        return "warm"

    @task
    def long_sleep(**context) -> int:
        seconds = int((context["dag_run"].conf or {}).get("seconds", 60))
        print(f"long_sleep sleeping {seconds}s")
        for i in range(seconds):
            time.sleep(1)
            print(f"slept {i + 1}/{seconds}", flush=True)
        return seconds

    @task
    def after(seconds: int) -> str:
        return f"slept {seconds}s"

    slept = long_sleep()
    warm_up() >> slept
    after(slept)


e2e_owned_long_task()
