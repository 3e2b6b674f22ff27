"""A Temporal-owned run runs its DAG's on_success_callback / on_failure_callback as Airflow runs them for
its own runs: once, in the dag-processor, with Airflow's callback context (the run id, the reason, the
task instance update_state picks, the run's conf), its output in the dag-processor's log for the DAG's
file. The DAG (e2e_owned_callbacks): `work` (fails when conf `fail` is true) -> `report`; each callback
appends an entry built from its context to the Variable `e2e_owned_callbacks__<run id>`, read here
through Airflow's REST API.
"""
from __future__ import annotations

import json
import uuid

import pytest

from e2e_checks import RUN_TIMEOUT
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

DAG_ID = "e2e_owned_callbacks"
VARIABLE_PREFIX = "e2e_owned_callbacks__"
DAG_FILE_LOG = "e2e_owned_callbacks.py.log"


def _entries(airflow, run_id: str) -> list[dict] | None:
    r = airflow.request("GET", f"/variables/{airflow.q(VARIABLE_PREFIX + run_id)}", expect=(200, 404))
    return json.loads(r.json()["value"]) if r.status_code == 200 else None


def _pending_requests(stack, run_id: str) -> int:
    """Callback requests of the run the dag-processor has not claimed yet (the REST API does not show them)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.sql_alchemy_conn)
    try:
        with engine.connect() as c:
            return c.execute(text("select count(*) from callback where type = 'dag_processor' "
                                  "and data->'__var'->>'req_data' like :run"), {"run": f'%"run_id":"{run_id}"%'}).scalar()
    finally:
        engine.dispose()


def _dag_processor_log(stack) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(stack.airflow_home.rglob(DAG_FILE_LOG)))


def test_owned_runs_run_their_dag_callbacks_once_with_airflows_context(stack, airflow):
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    suffix = uuid.uuid4().hex[:8]
    succeeding, failing = f"owned_callbacks_ok_{suffix}", f"owned_callbacks_fail_{suffix}"
    try:
        for run_id, conf in ((succeeding, {"case": "ok"}), (failing, {"case": "fail", "fail": True})):
            triggered = trigger_owned(stack, DAG_ID, "--run-id", run_id, "--conf", json.dumps(conf))
            assert triggered.returncode == 0, describe(triggered)
            assert airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)["state"] == (
                "failed" if conf.get("fail") else "success")
            wait_until(lambda: _entries(airflow, run_id), RUN_TIMEOUT, f"the DAG callback of {run_id} to run")

        # Each run's request was written in the transaction that ended it and is claimed; the failing run's
        # callback ran after the succeeding run's, so a second request of the first would have run by now.
        assert (_pending_requests(stack, succeeding), _pending_requests(stack, failing)) == (0, 0)
        assert _entries(airflow, succeeding) == [{
            "callback": "on_success_callback", "run_id": succeeding, "reason": "success", "task_id": "report",
            "dag_run_run_id": succeeding, "conf": {"case": "ok"}}]
        assert _entries(airflow, failing) == [{
            "callback": "on_failure_callback", "run_id": failing, "reason": "task_failure", "task_id": "work",
            "dag_run_run_id": failing, "conf": {"case": "fail", "fail": True}}]

        log = _dag_processor_log(stack)
        for run_id, kind in ((succeeding, "on_success_callback"), (failing, "on_failure_callback")):
            assert f"e2e_owned_callbacks: {kind} for {run_id}" in log, log[-4000:]
    finally:
        for run_id in (succeeding, failing):
            airflow.request("DELETE", f"/variables/{airflow.q(VARIABLE_PREFIX + run_id)}", expect=(200, 204, 404))
