"""Differential test DAG: `square` is mapped (.expand) over the list `make` returns; `total` sums it."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_mapped():
    @task
    def make() -> list[int]:
        return [1, 2, 3]

    @task
    def square(x: int) -> int:
        return x * x

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    total(square.expand(x=make()))


e2e_diff_mapped()
