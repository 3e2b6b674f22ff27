"""Differential test DAG: TaskFlow values through XCom (a list, multiple_outputs, an explicit key)."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_xcom():
    @task
    def numbers(**context) -> list[int]:
        context["ti"].xcom_push(key="note", value={"source": "numbers", "n": 3})
        return [1, 2, 3]

    @task(multiple_outputs=True)
    def stats(values: list[int]) -> dict:
        return {"total": sum(values), "count": len(values)}

    @task
    def describe(total: int, count: int) -> str:
        return f"{count} numbers, total {total}"

    s = stats(numbers())
    describe(s["total"], s["count"])


e2e_diff_xcom()
