"""TemporalExecutor reports what it does through Airflow's own Stats, configured as the scheduler configures it
([metrics] statsd_on, statsd_host, statsd_port): here to a UDP socket the test reads, against a real Temporal
dev server with no worker (submitting a task starts its DagRun workflow; reading its progress cannot be answered)."""

from __future__ import annotations

import socket
import uuid

import pytest

from airflow_temporal.executors.temporal_executor import TemporalExecutor


@pytest.fixture
def statsd_socket(monkeypatch):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10)
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PORT", str(sock.getsockname()[1]))
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_PREFIX", "airflow")
    yield sock
    sock.close()
    # Later executors in this process are built without statsd: BaseExecutor.__init__ points Stats at it again.


def received(sock: socket.socket, until: str) -> list[str]:
    """Every statsd line received until one starts with `until`."""
    lines: list[str] = []
    while not any(line.startswith(until) for line in lines):
        packet, _ = sock.recvfrom(65535)
        lines += packet.decode().splitlines()
    return lines


def execute_task(run_id: str):
    from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO

    return ExecuteTask(
        ti=TaskInstanceDTO(
            id=uuid.uuid4(), dag_version_id=uuid.uuid4(), task_id="extract", dag_id="example_temporal_chain",
            run_id=run_id, try_number=1, map_index=-1, pool_slots=1, queue="default", priority_weight=1,
            external_executor_id=str(uuid.uuid4()),
        ),
        dag_rel_path="example_temporal_chain.py", token="token",
        bundle_info=BundleInfo(name="dags-folder", version=None), log_path="x.log",
    )


def test_submits_and_syncs_reach_the_configured_statsd(statsd_socket, temporal_address, monkeypatch):
    monkeypatch.setenv("AIRFLOW__TEMPORAL__ADDRESS", temporal_address)
    monkeypatch.setenv("AIRFLOW__TEMPORAL__TASK_QUEUE", f"stats-{uuid.uuid4()}")  # no worker polls it
    monkeypatch.setenv("AIRFLOW__TEMPORAL__RPC_TIMEOUT", "2")
    executor = TemporalExecutor()
    executor.start()
    try:
        run_id = f"manual__{uuid.uuid4()}"
        executor._process_workloads([execute_task(run_id), execute_task(run_id)])
        submitted = received(statsd_socket, "airflow.temporal_executor.tasks_submitted")

        executor.sync()  # no worker answers the progress query
        synced = received(statsd_socket, "airflow.temporal_executor.sync_duration")
    finally:
        executor.end()

    assert "airflow.temporal_executor.tasks_submitted:2|c" in submitted
    assert any(line.startswith("airflow.temporal_executor.submit_duration:") and line.endswith("|ms")
               for line in submitted), submitted
    assert "airflow.temporal_executor.active_runs:1|g" in synced
    assert "airflow.temporal_executor.sync_errors:1|c" in synced
