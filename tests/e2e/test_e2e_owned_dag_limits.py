"""A Temporal-owned run past its DAG's dagrun_timeout ends as Airflow's scheduler ends it: the run failed,
its unfinished task instances skipped, the running task's process stopped (its runner's Execution API
heartbeat finds the task instance skipped), and the workflow closed once that try has ended. The DAG
(e2e_owned_dag_limits, dagrun_timeout 60 s): `long_sleep` (600 s, writes its pid to a Variable first) ->
`after`. Checked through Airflow's REST API; the process through the OS (the stack is local).
"""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from e2e_checks import RUN_TIMEOUT
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.temporal import list_executions
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

DAG_ID = "e2e_owned_dag_limits"
PID_VARIABLE_PREFIX = "e2e_owned_dag_limits_pid__"


def _pid(airflow, run_id: str) -> int | None:
    r = airflow.request("GET", f"/variables/{airflow.q(PID_VARIABLE_PREFIX + run_id)}", expect=(200, 404))
    return int(r.json()["value"]) if r.status_code == 200 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended; only its parent has not reaped it yet.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_an_owned_run_past_its_dagrun_timeout_fails_skips_what_is_unfinished_and_stops_its_running_task(
        stack, airflow):
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    run_id = f"owned_dagrun_timeout_{uuid.uuid4().hex[:8]}"
    wid = f"dagrun:{DAG_ID}:{run_id}"
    try:
        triggered = trigger_owned(stack, DAG_ID, "--run-id", run_id)
        assert triggered.returncode == 0, describe(triggered)
        pid = wait_until(lambda: _pid(airflow, run_id), RUN_TIMEOUT, "long_sleep to start")
        assert _alive(pid)

        run = airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)
        assert run["state"] == "failed", run
        states = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in airflow.task_instances(DAG_ID, run_id)}
        assert states == {"long_sleep": ("skipped", 1), "after": ("skipped", 0)}

        wait_until(lambda: not _alive(pid), RUN_TIMEOUT, f"long_sleep's process {pid} to be stopped")
        wait_until(lambda: all(e["status"].name == "COMPLETED" for e in list_executions(stack.temporal_address, wid)),
                   RUN_TIMEOUT, f"workflow {wid} to complete once its try has ended")
        leftovers = subprocess.run(["pgrep", "-f", run_id], capture_output=True, text=True).stdout.split()
        assert not leftovers, f"processes of {run_id} left running: {leftovers}"
        # Kept beside the stack's logs: the history is what the replay test's owned-mode-dagrun-timeout.json holds.
        history = subprocess.run([stack.bin("temporal"), "workflow", "show", "-w", wid, "--address",
                                  stack.temporal_address, "--output", "json"], capture_output=True, text=True)
        (stack.state_dir / "owned-mode-dagrun-timeout.json").write_text(history.stdout)
    finally:
        airflow.request("DELETE", f"/variables/{airflow.q(PID_VARIABLE_PREFIX + run_id)}", expect=(200, 204, 404))
