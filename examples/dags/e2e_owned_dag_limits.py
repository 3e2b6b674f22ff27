"""End-to-end test DAG for the DAG-level limits of Temporal-owned runs: `dagrun_timeout` (60 s) and
`max_consecutive_failed_dag_runs` (2). `long_sleep` sleeps 600 s (writing its pid to the Variable
`e2e_owned_dag_limits_pid__<run id>` first, so a test can see its process is gone), then `after` would run:
a run times out while `long_sleep` runs (the root task, so that a loaded host still starts it within the
timeout)."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from airflow.sdk import Variable, dag, task

PID_VARIABLE_PREFIX = "e2e_owned_dag_limits_pid__"


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"],
     dagrun_timeout=timedelta(seconds=60), max_consecutive_failed_dag_runs=2)
def e2e_owned_dag_limits():
    @task
    def long_sleep(**context) -> None:
        Variable.set(PID_VARIABLE_PREFIX + context["run_id"], str(os.getpid()))
        time.sleep(600)

    @task
    def after() -> str:
        return "never reached within the timeout"

    long_sleep() >> after()


e2e_owned_dag_limits()
