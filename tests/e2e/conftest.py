"""Session fixtures for the end-to-end suite: one real stack (PostgreSQL, Temporal dev server,
Airflow 3.3 with the TemporalExecutor, two worker JARs: queues `default` and `special`, each with a
metrics port (WorkerSpec.metrics_port); Temporal
Schedules on for DAGs tagged `temporal`, synced every 5 s).

Knobs (environment):
  AT_E2E_EXECUTOR   executor for the stack (default airflow_temporal.executors.temporal_executor.TemporalExecutor);
                    with any other executor the Temporal-side assertions are skipped and no
                    workers are started (handy to validate the harness with LocalExecutor).
  AT_E2E_KEEP_STATE state dir is always kept under $AT_CACHE/state/<stack name> for post-mortems;
                    it is wiped when the next session starts.
  AT_E2E_STACK_NAME stack name (default e2e): sessions running at the same time need different
                    names, since starting a stack stops what a stack of the same name left running.
On any test failure the tails of the component logs are attached to the report.
"""
from __future__ import annotations

import base64
import os

import pytest

from airflow_temporal_testing.stack import TEMPORAL_EXECUTOR, Stack, WorkerSpec, free_port
from airflow_temporal_testing.temporal import use_codec_key

DEFAULT_IDENTITY = "default-worker"
SPECIAL_IDENTITY = "special-worker"
SCHEDULE_SYNC_INTERVAL = 5
SCHEDULE_SYNC_ARGS = ["--schedule-sync-interval", str(SCHEDULE_SYNC_INTERVAL)]
_STACK: Stack | None = None


def _executor() -> str:
    return os.environ.get("AT_E2E_EXECUTOR") or TEMPORAL_EXECUTOR


@pytest.fixture(scope="session")
def stack():
    global _STACK
    executor = _executor()
    s = Stack(
        name=os.environ.get("AT_E2E_STACK_NAME") or "e2e",
        ports="free",
        executor=executor,
        # Both workers sync Temporal Schedules every 5 s (the last one started sets the loop's interval).
        workers=[WorkerSpec(queues="default", identity=DEFAULT_IDENTITY, extra_args=SCHEDULE_SYNC_ARGS,
                            metrics_port=free_port()),
                 WorkerSpec(queues="special", identity=SPECIAL_IDENTITY, extra_args=SCHEDULE_SYNC_ARGS,
                            metrics_port=free_port())],
        # Short enough that the stuck-in-queued test sees Airflow revoke a task within a minute.
        extra_env={"AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
                   "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "10",
                   # Opted-in DAGs (tag `temporal`) get Temporal Schedules; the workers read it too.
                   "AIRFLOW__TEMPORAL__SCHEDULES": "True",
                   # The UI's "Test connection" runs on a worker (a TestConnection workload) only when enabled.
                   "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
        # AT_E2E_CODEC=1: the whole stack encrypts Temporal payloads (key in stack.codec_key).
        codec_key=base64.b64encode(os.urandom(32)).decode() if os.environ.get("AT_E2E_CODEC") == "1" else None,
    )
    _STACK = s
    use_codec_key(s.codec_key)
    s.start()  # on failure it prints the log tails and stops what it started
    try:
        yield s
    finally:
        s.stop()
        _STACK = None


@pytest.fixture(scope="session")
def airflow(stack):
    return stack.airflow


@pytest.fixture(scope="session")
def temporal_enabled(stack) -> bool:
    return stack.executor == TEMPORAL_EXECUTOR


@pytest.fixture
def require_temporal(temporal_enabled):
    if not temporal_enabled:
        pytest.skip(f"executor is {_executor()}, not the TemporalExecutor")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _STACK is not None:
        names = ("scheduler", "worker-", "temporal", "api-server", "dag-processor", "triggerer")
        report.sections.append(("component logs (tails)", _STACK.log_tails(lines=80, names=names)))
