"""End-to-end test DAG: a required param without a default (`name`) and one with a schema (`count`). Airflow
refuses to create a run of it whose conf does not satisfy them, and so does every path that creates a
Temporal-owned run."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"],
     params={"name": Param(type="string", description="required: no default"),
             "count": Param(2, type="integer", minimum=1)})
def e2e_owned_params():
    @task
    def greet(params=None) -> str:
        return f"{params['name']} x{params['count']}"

    greet()


e2e_owned_params()
