"""The worker's metrics and health port on the session's real stack: a Prometheus scrape whose values move
when a DAG runs (executor mode and Temporal-owned mode), and /readyz following Temporal going away and back.

The stack's workers listen on free ports (WorkerSpec.metrics_port); the last test stops the Temporal dev
server and starts it again on the same database, so it runs last in this file.
"""
from __future__ import annotations

import re

import pytest
import requests

from conftest import DEFAULT_IDENTITY
from e2e_checks import run_dag
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
# The SDK's meters reach the registry every 10 s (WorkerCommand.SDK_METRICS_INTERVAL).
SDK_REPORT_WAIT = 60


@pytest.fixture(autouse=True)
def workers_polling(stack):
    """The metrics port opens as the worker starts polling, after its start-up checks."""
    for proc in stack.workers_running():
        stack.wait_worker_polling(proc)


def _worker(stack, identity: str = DEFAULT_IDENTITY):
    return next(p for p in stack.workers_running() if p.spec.identity == identity)


def scrape(stack, identity: str = DEFAULT_IDENTITY) -> dict[tuple[str, frozenset], float]:
    """Every sample of one worker's /metrics (the default worker's unless named): (name, labels) -> value."""
    response = requests.get(_worker(stack, identity).spec.metrics_url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = frozenset(LABEL.findall(match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def scrape_all(stack) -> list[dict[tuple[str, frozenset], float]]:
    """Both workers' samples: workflow tasks, with the owned runs' DB steps, run on either."""
    return [scrape(stack, p.spec.identity) for p in stack.workers_running()]


def total(samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (of one scrape, or of a list of them)."""
    if isinstance(samples, list):
        return sum(total(s, name, **labels) for s in samples)
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def readyz(stack) -> requests.Response:
    return requests.get(_worker(stack).spec.metrics_url + "/readyz", timeout=30)


def test_a_scrape_counts_the_attempts_and_runner_starts_of_a_dag_run(stack, airflow):
    dag_id = "example_temporal_chain"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    before = scrape(stack)

    run_dag(stack, dag_id)

    after = scrape(stack)
    started = "airflow_temporal_attempts_started_total"
    finished = "airflow_temporal_attempts_finished_total"
    # At least: a run of another test's unpaused DAG may end on this worker meanwhile (the meters have no DAG label).
    assert total(after, started, queue="default", kind="task") - total(before, started, queue="default", kind="task") \
        >= 4, "the chain's four tasks each started on the default queue"
    assert total(after, finished, queue="default", kind="task", outcome="success") \
        - total(before, finished, queue="default", kind="task", outcome="success") >= 4
    assert total(after, "airflow_temporal_runner_start_seconds_count") \
        - total(before, "airflow_temporal_runner_start_seconds_count") >= 4
    assert total(after, "airflow_temporal_runner_start_seconds_sum") \
        > total(before, "airflow_temporal_runner_start_seconds_sum")


def test_while_a_task_runs_its_slot_is_taken_and_its_runner_alive(stack, airflow, tmp_path):
    dag_id = "e2e_long_task"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    run_id = airflow.trigger(dag_id, conf={"marker_dir": str(tmp_path)})["dag_run_id"]
    wait_until(lambda: list(tmp_path.glob("*.started")), 180, "the long task's runner to start")

    during = scrape(stack)
    # --max-concurrent-tasks is 16 on the stack's workers.
    assert during[("airflow_temporal_slots_free", frozenset({("queue", "default")}))] <= 15
    assert during[("airflow_temporal_runners_alive", frozenset())] >= 1

    final = airflow.wait_for_run(dag_id, run_id, timeout=300)
    assert final["state"] == "success", final


def test_a_scrape_counts_an_owned_runs_db_steps_and_the_sdks_own_meters(stack, airflow):
    dag_id = "example_temporal_chain"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    before = scrape_all(stack)

    result = trigger_owned(stack, dag_id, "--wait")
    assert result.returncode == 0, describe(result)

    after = scrape_all(stack)
    db = "airflow_temporal_db_activity_seconds_count"
    for activity in ("createDagRun", "queueAttempts", "settleAttempt", "finishDagRun"):
        assert total(after, db, activity=activity, outcome="ok") > total(before, db, activity=activity, outcome="ok"), \
            f"no {activity} step counted"
    started = "airflow_temporal_attempts_started_total"
    assert total(after, started, kind="owned_task", queue="default") \
        - total(before, started, kind="owned_task", queue="default") >= 4
    assert all(("airflow_temporal_owned_runs_in_progress", frozenset()) in s for s in after)
    # The SDK's meters (MicrometerClientStatsReporter), reported every 10 s.
    wait_until(lambda: total(scrape(stack), "temporal_activity_execution_latency_seconds_count") > 0,
               SDK_REPORT_WAIT, "the SDK's activity execution latency in the scrape")


def test_the_cleared_runs_sweeps_are_counted(stack):
    # The sweep loop's activity runs on whichever worker polls it, every 10 s (the default interval).
    sweeps = "airflow_temporal_cleared_runs_sweeps_total"
    first = total(scrape_all(stack), sweeps)
    wait_until(lambda: total(scrape_all(stack), sweeps) > first, 120, "one more cleared-runs sweep counted")


def test_livez_and_readyz_answer_200_on_a_running_worker(stack):
    live = requests.get(_worker(stack).spec.metrics_url + "/livez", timeout=10)
    assert live.status_code == 200, live.text
    ready = readyz(stack)
    assert ready.status_code == 200, ready.text
    assert ready.text.splitlines() == ["ready", "temporal: ok", "database: ok", "runner_server: ok", "pollers: ok"]


def test_readyz_names_temporal_while_it_is_down_and_is_ready_again_once_it_is_back(stack):
    stack.stop_temporal()
    try:
        down = readyz(stack)
        assert down.status_code == 503, down.text
        assert down.text.splitlines()[0] == "not ready: temporal", down.text
        assert "temporal: cannot use Temporal namespace 'default'" in down.text
        assert "database: ok" in down.text and "pollers: ok" in down.text
        assert requests.get(_worker(stack).spec.metrics_url + "/livez", timeout=10).status_code == 200
    finally:
        stack.start_temporal_again()
    wait_until(lambda: readyz(stack).status_code == 200, 120, "/readyz 200 once Temporal is back",
               on_timeout=lambda: readyz(stack).text)
