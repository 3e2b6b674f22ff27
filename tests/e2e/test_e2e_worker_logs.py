"""Task logs reach the Airflow UI from whichever worker host ran the try, with no shared folder.

A stack of its own: two worker JARs that Airflow sees as two hosts (their tries' hostname is 127.0.0.2
and 127.0.0.3, through `[core] hostname_callable`), each with its own `[logging] base_log_folder` and its
log server (`airflow_temporal.worker.log_server`, Airflow's worker log server) listening on its address at
the stack's `worker_log_server_port`; the api-server has yet another log folder. Each task's log is read
through the REST API, as the UI reads it, and must come from the log server of the worker that ran it.
A log server that dies is started again by its worker; one whose worker is killed dies with it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import uuid

import pytest
import requests

from airflow_temporal_testing.owned import start_owned
from airflow_temporal_testing.stack import Stack, WorkerSpec, free_port, process_alive, wait_until

DAG_ID = "e2e_queue_routing"
HOSTS = {"on_default": "127.0.0.2", "on_special": "127.0.0.3"}
PRINTED = {"on_default": "running on default queue", "on_special": "running on queue special"}


@pytest.fixture(scope="module")
def two_hosts():
    s = Stack(
        name=(os.environ.get("AT_E2E_STACK_NAME") or "e2e") + "-logs", ports="free",
        workers=[WorkerSpec(queues="default", identity="host-2", host=HOSTS["on_default"], metrics_port=free_port()),
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


def _readyz(worker) -> str:
    return requests.get(worker.spec.metrics_url + "/readyz", timeout=30).text


def _worker_on(stack: Stack, host: str):
    return next(p for p in stack.workers_running() if p.spec.host == host)


def test_a_log_server_that_dies_is_reported_not_ready_then_started_again_and_serves_the_logs_again(two_hosts):
    worker = _worker_on(two_hosts, HOSTS["on_default"])
    (first,) = two_hosts.log_server_pids(worker)
    os.kill(first, signal.SIGKILL)

    wait_until(lambda: "log_server: the task log server" in _readyz(worker), 60, "/readyz to report the log server")
    wait_until(lambda: _readyz(worker).startswith("ready"), 120, "the log server to be started again",
               on_timeout=lambda: _readyz(worker))
    assert two_hosts.log_server_pids(worker) not in ([], [first])

    run_id = two_hosts.airflow.trigger(DAG_ID)["dag_run_id"]
    final = two_hosts.airflow.wait_for_run(DAG_ID, run_id, timeout=300)
    assert final["state"] == "success", final
    _assert_each_log_served_by_the_worker_that_ran_it(two_hosts, run_id)


def test_a_killed_workers_log_server_dies_with_it(two_hosts):
    worker = _worker_on(two_hosts, HOSTS["on_special"])
    (server,) = two_hosts.log_server_pids(worker)
    two_hosts.kill_worker(worker)
    wait_until(lambda: not process_alive(server), 30, f"log server {server} to exit with its killed worker")
    # Its other helpers (the runner server, the token minter) go the same way, each on its own lifeline.
    wait_until(lambda: not two_hosts.runner_processes(), 30, "the killed worker's helpers to exit",
               on_timeout=two_hosts.runner_processes)
