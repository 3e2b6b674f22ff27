"""End-to-end test DAG: its task runs on queue `nodags`, served by a worker whose DAGs folder is empty."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_dag_missing_on_worker():
    @task(queue="nodags")
    def needs_its_dag_file() -> None:
        print("unreachable: the worker host has no copy of this DAG file")

    needs_its_dag_file()


e2e_dag_missing_on_worker()
