"""End-to-end test DAG: opts in to Temporal Schedules (tag `temporal`) and has params whose defaults validate,
so a firing (conf `{}`) creates a run that sees the defaults."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task


@dag(schedule="0 3 * * *", start_date=datetime(2024, 1, 1), catchup=False, tags=["temporal", "e2e"],
     params={"greeting": Param("hello", type="string"), "times": Param(2, type="integer", minimum=1)})
def e2e_owned_schedule_params():
    @task
    def greet(params=None) -> str:
        return f"{params['greeting']} x{params['times']}"

    greet()


e2e_owned_schedule_params()
