"""End-to-end test DAG: a task on a queue no worker serves, so it stays queued until Airflow revokes it."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_queue_without_worker():
    @task(queue="nowhere")
    def never_picked_up() -> None:
        print("unreachable: no worker polls airflow:nowhere")

    never_picked_up()


e2e_queue_without_worker()
