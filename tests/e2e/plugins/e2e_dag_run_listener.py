"""A listener plugin for the end-to-end stack: each DagRun hook appends one JSON line to
`$AT_E2E_MARKER_DIR/dag_run_listener.jsonl` (which hook, its msg, the run as the hook got it), from whichever
process calls it: Airflow's scheduler for its runs, the worker's listeners process for Temporal-owned ones."""
from __future__ import annotations

import json
import os
from pathlib import Path

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

RECORD = "dag_run_listener.jsonl"


def _record(hook: str, dag_run, msg: str) -> None:
    entry = {"hook": hook, "msg": msg, "dag_id": dag_run.dag_id, "run_id": dag_run.run_id,
             "run_type": dag_run.run_type, "state": dag_run.state, "has_dag": getattr(dag_run, "dag", None) is not None}
    with open(Path(os.environ["AT_E2E_MARKER_DIR"]) / RECORD, "a") as f:
        f.write(json.dumps(entry) + "\n")


class DagRunRecorder:
    @hookimpl
    def on_dag_run_running(self, dag_run, msg: str):
        _record("on_dag_run_running", dag_run, msg)

    @hookimpl
    def on_dag_run_success(self, dag_run, msg: str):
        _record("on_dag_run_success", dag_run, msg)

    @hookimpl
    def on_dag_run_failed(self, dag_run, msg: str):
        _record("on_dag_run_failed", dag_run, msg)


class E2eDagRunListenerPlugin(AirflowPlugin):
    name = "e2e_dag_run_listener"
    listeners = [DagRunRecorder()]
