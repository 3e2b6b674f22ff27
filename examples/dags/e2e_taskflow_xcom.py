"""End-to-end test DAG: TaskFlow return values passed downstream through XCom.

produce() -> 21, double(21) -> 42, finish(42, "answer") -> "answer=42".
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_taskflow_xcom():
    @task
    def produce() -> int:
        print("producing 21")
        return 21

    @task
    def label() -> str:
        return "answer"

    @task
    def double(x: int) -> int:
        print(f"doubling {x}")
        return x * 2

    @task
    def finish(value: int, name: str) -> str:
        result = f"{name}={value}"
        print(f"final result {result}")
        return result

    finish(double(produce()), label())


e2e_taskflow_xcom()
