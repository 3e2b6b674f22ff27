"""End-to-end test DAG for Temporal-owned runs of big DAGs: 5,000 tasks — a start, 51 parallel chains
of 98 plain EmptyOperators (which Airflow, and owned runs, mark success without running them) and one
real task joining them all."""
from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, task

CHAINS = 51
CHAIN_LENGTH = 98

with DAG("e2e_owned_5000_tasks", schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"],
         max_active_tasks=64):

    @task
    def join() -> int:
        return CHAINS * CHAIN_LENGTH + 2

    begin = EmptyOperator(task_id="begin")
    finish = join()
    for c in range(CHAINS):
        previous = begin
        for i in range(CHAIN_LENGTH):
            current = EmptyOperator(task_id=f"c{c:02d}_t{i:02d}")
            previous >> current
            previous = current
        previous >> finish
