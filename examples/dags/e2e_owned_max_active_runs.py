"""End-to-end test DAG for max_active_runs of Temporal-owned runs: one run at a time; its only task,
`hold`, waits until the Variable named by conf `hold_variable` exists (when given), so that a test can
keep a run running while it triggers the next."""
from __future__ import annotations

import time
from datetime import datetime

from airflow.sdk import Variable, dag, task

HOLD_LIMIT_SECONDS = 600


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, max_active_runs=1, tags=["e2e"])
def e2e_owned_max_active_runs():
    @task
    def hold(**context) -> str:
        name = (context["dag_run"].conf or {}).get("hold_variable")
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while name and Variable.get(name, default=None) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Variable {name} did not appear within {HOLD_LIMIT_SECONDS} s")
            time.sleep(1)
        return context["dag_run"].run_id

    hold()


e2e_owned_max_active_runs()
