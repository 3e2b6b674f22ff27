"""End-to-end test DAG: opts in to Temporal Schedules (tag `temporal`), and its params gain a required param
without a default after the DAG is built. Airflow checks a scheduled DAG's params only when it is built, so
the file parses, but a firing's conf (`{}`) fails Airflow's params check: Airflow's own scheduler would
create no run, and neither does a Temporal Schedule's firing."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task


@dag(schedule="0 3 * * *", start_date=datetime(2024, 1, 1), catchup=False, tags=["temporal", "e2e"])
def e2e_owned_schedule_params_required():
    @task
    def greet(params=None) -> str:
        return params["name"]

    greet()


e2e_owned_schedule_params_required().params["name"] = Param(type="string", description="required: no default")
