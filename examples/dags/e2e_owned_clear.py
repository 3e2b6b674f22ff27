"""End-to-end test DAG for clearing Temporal-owned runs in Airflow: `prepare`, then `gate`, which fails
unless the Variable named by conf `gate_variable` exists, then `after`; beside them `parallel`, which
waits until the Variable named by conf `hold_variable` exists (when given), so that a test can keep
the run running while it clears `gate`."""
from __future__ import annotations

import time
from datetime import datetime

from airflow.sdk import Variable, dag, task

HOLD_LIMIT_SECONDS = 600


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_clear():
    @task
    def prepare() -> str:
        return "prepared"

    @task
    def gate(prepared: str, **context) -> str:
        name = (context["dag_run"].conf or {}).get("gate_variable", "e2e_owned_clear_gate")
        if Variable.get(name, default=None) is None:
            raise RuntimeError(f"gate closed: Variable {name} does not exist")
        return f"{prepared}, gate open on try {context['ti'].try_number}"

    @task
    def after(opened: str) -> str:
        return f"after: {opened}"

    @task
    def parallel(**context) -> str:
        name = (context["dag_run"].conf or {}).get("hold_variable")
        waited = 0
        while name and Variable.get(name, default=None) is None:
            if waited >= HOLD_LIMIT_SECONDS:
                raise RuntimeError(f"Variable {name} did not appear within {HOLD_LIMIT_SECONDS}s")
            time.sleep(1)
            waited += 1
        return f"released after {waited}s"

    after(gate(prepare()))
    parallel()


e2e_owned_clear()
