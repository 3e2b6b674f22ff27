"""End-to-end test DAG for DAG-level callbacks of Temporal-owned runs: `work` succeeds, or fails when conf
`fail` is true; `report` follows it. The DAG's on_success_callback and on_failure_callback each append
one entry to the Variable `e2e_owned_callbacks__<run id>`, built from the context Airflow's dag-processor
gives them (the run id, the reason, the task instance the context was built from, the run's conf), so a
test sees how many times each ran and with what, and prints a line naming the run (to the dag-processor's
log for this file)."""
from __future__ import annotations

import json
from datetime import datetime

from airflow.sdk import Variable, dag, task

VARIABLE_PREFIX = "e2e_owned_callbacks__"


def _record(kind: str, context) -> None:
    run_id = context["run_id"]
    key = VARIABLE_PREFIX + run_id
    entries = json.loads(Variable.get(key, default="[]"))
    ti = context.get("ti")
    dag_run = context.get("dag_run")
    entries.append({
        "callback": kind,
        "run_id": run_id,
        "reason": context.get("reason"),
        "task_id": ti.task_id if ti is not None else None,
        "dag_run_run_id": dag_run.run_id if dag_run is not None else None,
        "conf": dag_run.conf if dag_run is not None else None,
    })
    Variable.set(key, json.dumps(entries))
    print(f"e2e_owned_callbacks: {kind} for {run_id}")


def on_success(context) -> None:
    _record("on_success_callback", context)


def on_failure(context) -> None:
    _record("on_failure_callback", context)


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"],
     on_success_callback=on_success, on_failure_callback=on_failure)
def e2e_owned_callbacks():
    @task
    def work(**context) -> str:
        if (context["dag_run"].conf or {}).get("fail"):
            raise RuntimeError("failing as conf asked")
        return "worked"

    @task
    def report(result: str) -> str:
        return f"report: {result}"

    report(work())


e2e_owned_callbacks()
