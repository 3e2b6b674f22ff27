"""Task logs reach the Airflow UI from whichever worker host ran the try, with no shared folder.

A stack of its own: two worker JARs that Airflow sees as two hosts (their tries' hostname is 127.0.0.2
and 127.0.0.3, through `[core] hostname_callable`), each with its own `[logging] base_log_folder` and its
log server (`airflow_temporal.worker.log_server`, Airflow's worker log server) listening on its address at
the stack's `worker_log_server_port`; the api-server has yet another log folder. Each task's log is read
through the REST API, as the UI reads it, and must come from the log server of the worker that ran it.
"""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from airflow_temporal_testing.owned import start_owned
from airflow_temporal_testing.stack import Stack, WorkerSpec

DAG_ID = "e2e_queue_routing"
HOSTS = {"on_default": "127.0.0.2", "on_special": "127.0.0.3"}
PRINTED = {"on_default": "running on default queue", "on_special": "running on queue special"}


@pytest.fixture(scope="module")
def two_hosts():
    s = Stack(
        name=(os.environ.get("AT_E2E_STACK_NAME") or "e2e") + "-logs", ports="free",
        workers=[WorkerSpec(queues="default", identity="host-2", host=HOSTS["on_default"]),
                 WorkerSpec(queues="special", identity="host-3", host=HOSTS["on_special"])],
    )
    s.start()
    try:
        s.airflow.wait_for_dag(DAG_ID)
        s.airflow.unpause(DAG_ID)
        yield s
    finally:
        s.stop()


def _assert_each_log_served_by_the_worker_that_ran_it(stack: Stack, run_id: str) -> None:
    by_host = {spec.host: spec for spec in stack.workers}
    for task_id, host in HOSTS.items():
        ti = stack.airflow.task_instance(DAG_ID, run_id, task_id)
        assert ti["hostname"] == host, ti
        written = list(stack.worker_log_folder(by_host[host]).glob(f"dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/*"))
        assert written, f"no log of {task_id} in {stack.worker_log_folder(by_host[host])}"
        # Not on the api-server's disk: what the API returns can only have come from the worker.
        assert not list((stack.airflow_home / "logs").glob(f"dag_id={DAG_ID}/run_id={run_id}/*")), run_id

        log = stack.airflow.log_text(DAG_ID, run_id, task_id, 1)
        assert PRINTED[task_id] in log, log[-3000:]
        assert f"http://{host}:{stack.log_server_port}/log/dag_id={DAG_ID}/run_id={run_id}/task_id={task_id}/" in log, \
            log[:3000]


def test_each_task_log_is_read_from_the_log_server_of_the_worker_host_that_ran_it(two_hosts):
    run_id = two_hosts.airflow.trigger(DAG_ID)["dag_run_id"]
    final = two_hosts.airflow.wait_for_run(DAG_ID, run_id, timeout=300)
    assert final["state"] == "success", final
    _assert_each_log_served_by_the_worker_that_ran_it(two_hosts, run_id)


def test_temporal_owned_runs_logs_are_served_by_their_workers_too(two_hosts):
    run_id = f"external__logs_{uuid.uuid4().hex[:8]}"
    owned = start_owned(two_hosts, DAG_ID, "--run-id", run_id, "--wait")
    try:
        out, _ = owned.communicate(timeout=300)
    finally:
        if owned.poll() is None:
            owned.kill()
    assert owned.returncode == 0, out
    _assert_each_log_served_by_the_worker_that_ran_it(two_hosts, run_id)


def test_a_worker_whose_log_server_address_is_taken_exits_2_naming_the_port_and_the_way_out(two_hosts):
    spec = WorkerSpec(queues="default", identity="host-2-again", host=HOSTS["on_default"])
    argv = two_hosts.worker_argv(spec) + ["--runner", "spawn"]
    result = subprocess.run(argv, env={**two_hosts.airflow_env(), **two_hosts.host_env(spec)}, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot listen on {HOSTS['on_default']}:{two_hosts.log_server_port}" in result.stderr, result.stderr
    assert "--no-serve-logs" in result.stderr, result.stderr
