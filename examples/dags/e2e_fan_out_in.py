"""End-to-end test DAG: 1 -> 5 -> 1."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_fan_out_in():
    @task
    def start() -> str:
        print("fan-out start")
        return "go"

    @task
    def work(i: int, token: str) -> int:
        print(f"worker {i} got {token}")
        return i * i

    @task
    def join(results: list[int]) -> int:
        total = sum(results)
        print(f"fan-in total={total}")
        return total

    token = start()
    parts = [work.override(task_id=f"work_{i}")(i, token) for i in range(5)]
    join(parts)


e2e_fan_out_in()
