"""End-to-end test DAG: callbacks of a run, each writing a marker file (under AT_E2E_MARKER_DIR).

* A deadline alert with a SyncCallback: Airflow 3.3's scheduler hands it to the DAG's executor as an
  ExecuteCallback workload once the deadline (1 s after the run was queued) passes while `slow` runs.
* `on_success_callback`: a DAG callback, which Airflow 3.3 still runs in the dag-processor (not an
  executor workload); here to show that it runs, and where.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import dag, task
from airflow.sdk.definitions.callback import SyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference


def _marker(name: str, run_id: str) -> Path:
    markers = Path(os.environ.get("AT_E2E_MARKER_DIR", "/tmp")) / "callbacks"
    markers.mkdir(parents=True, exist_ok=True)
    return markers / f"{name}-{run_id.replace(':', '_')}"


def deadline_missed(context: dict, note: str) -> None:
    """Called by Airflow's callback supervisor on the worker that runs the ExecuteCallback workload."""
    run_id = context["dag_run"]["dag_run_id"]  # the DAGRunResponse Airflow passes to deadline callbacks
    print(f"deadline missed for {run_id}: {note}")
    _marker("deadline_missed", run_id).write_text(f"{note} pid={os.getpid()}\n")


def run_succeeded(context) -> None:
    _marker("on_success", context["run_id"]).write_text(f"pid={os.getpid()}\n")


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, on_success_callback=run_succeeded,
     deadline=DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=timedelta(seconds=1),
                            callback=SyncCallback("e2e_executor_callbacks.deadline_missed",
                                                  kwargs={"note": "sync callback ran"})))
def e2e_executor_callbacks():
    @task
    def slow() -> None:
        # Long enough for the scheduler to see the deadline pass while the run is still running.
        time.sleep(20)

    slow()


e2e_executor_callbacks()
