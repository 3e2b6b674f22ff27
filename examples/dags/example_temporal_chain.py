"""The demo DAG: a short extract -> transform -> validate -> load chain.

`scripts/stack.py up` triggers it and prints the Airflow and Temporal UI links of the run.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def example_temporal_chain():
    @task
    def extract() -> list[int]:
        rows = [1, 2, 3, 4]
        print(f"extracted {len(rows)} rows: {rows}")
        return rows

    @task
    def transform(rows: list[int]) -> list[int]:
        out = [r * 10 for r in rows]
        print(f"transformed rows: {out}")
        return out

    @task
    def validate(rows: list[int]) -> list[int]:
        assert all(r % 10 == 0 for r in rows), rows
        print(f"validated {len(rows)} rows")
        return rows

    @task
    def load(rows: list[int]) -> int:
        total = sum(rows)
        print(f"loaded rows, total={total}")
        return total

    load(validate(transform(extract())))


example_temporal_chain()
