"""End-to-end behaviour of the TemporalExecutor on a real stack.

Each test triggers one example DAG through Airflow's REST API v2, waits for the run (generous
timeouts, no timing thresholds), then checks what Airflow recorded (run/TI states, tries, XCom,
logs) and what Temporal recorded (one workflow per DagRun, one `run_task` activity per attempt,
queue routing, cancellation).
"""
from __future__ import annotations

import re
import time

import requests


from conftest import SPECIAL_IDENTITY
from e2e_checks import (
    RUN_TIMEOUT,
    assert_attempt_activities,
    assert_log_contains,
    assert_one_workflow,
    run_dag,
    ts,
)
from airflow_temporal_testing.stack import wait_until

# ----------------------------------------------------------------------------------------------
def test_chain_runs_every_task_once_in_order_in_one_workflow(stack, airflow, temporal_enabled):
    dag_id = "example_temporal_chain"
    run_id = run_dag(stack, dag_id)

    tis = {ti["task_id"]: ti for ti in airflow.task_instances(dag_id, run_id)}
    order = ["extract", "transform", "validate", "load"]
    assert set(tis) == set(order)
    for task_id in order:
        assert tis[task_id]["state"] == "success", tis[task_id]
        assert tis[task_id]["try_number"] == 1, tis[task_id]
    for up, down in zip(order, order[1:]):
        assert ts(tis[up]["end_date"]) <= ts(tis[down]["start_date"]), f"{down} started before {up} ended"
    assert airflow.xcom(dag_id, run_id, "load") == 100
    assert_log_contains(airflow, dag_id, run_id, "extract", 1, "extracted 4 rows")

    if temporal_enabled:
        wid = assert_one_workflow(stack, dag_id, run_id)
        for task_id in order:
            (act,) = assert_attempt_activities(stack, wid, task_id, 1)
            assert act.closed == "completed", act


def test_fan_out_fan_in_runs_five_parallel_tasks_between_start_and_join(stack, airflow, temporal_enabled):
    dag_id = "e2e_fan_out_in"
    run_id = run_dag(stack, dag_id)

    tis = {ti["task_id"]: ti for ti in airflow.task_instances(dag_id, run_id)}
    middle = [f"work_{i}" for i in range(5)]
    assert set(tis) == {"start", "join", *middle}
    assert all(ti["state"] == "success" for ti in tis.values()), {k: v["state"] for k, v in tis.items()}
    for task_id in middle:
        assert ts(tis["start"]["end_date"]) <= ts(tis[task_id]["start_date"])
        assert ts(tis[task_id]["end_date"]) <= ts(tis["join"]["start_date"])
    assert airflow.xcom(dag_id, run_id, "join") == sum(i * i for i in range(5))
    assert_log_contains(airflow, dag_id, run_id, "work_3", 1, "worker 3 got go")

    if temporal_enabled:
        wid = assert_one_workflow(stack, dag_id, run_id)
        for task_id in tis:
            assert_attempt_activities(stack, wid, task_id, 1)


def test_taskflow_return_values_flow_downstream_through_xcom(stack, airflow, temporal_enabled):
    dag_id = "e2e_taskflow_xcom"
    run_id = run_dag(stack, dag_id)

    assert airflow.ti_states(dag_id, run_id) == {
        "produce": "success", "double": "success", "label": "success", "finish": "success"}
    assert airflow.xcom(dag_id, run_id, "produce") == 21
    assert airflow.xcom(dag_id, run_id, "double") == 42
    assert airflow.xcom(dag_id, run_id, "label") == "answer"
    assert airflow.xcom(dag_id, run_id, "finish") == "answer=42"
    assert_log_contains(airflow, dag_id, run_id, "finish", 1, "final result answer=42")

    if temporal_enabled:
        wid = assert_one_workflow(stack, dag_id, run_id)
        assert_attempt_activities(stack, wid, "finish", 1)


def test_failed_first_try_is_retried_as_a_second_attempt_and_activity(stack, airflow, temporal_enabled):
    dag_id = "e2e_retry_once"
    run_id = run_dag(stack, dag_id)

    flaky = airflow.task_instance(dag_id, run_id, "flaky")
    assert flaky["state"] == "success"
    assert flaky["try_number"] == 2
    tries = sorted(airflow.tries(dag_id, run_id, "flaky"), key=lambda t: t["try_number"])
    assert [(t["try_number"], t["state"]) for t in tries] == [(1, "failed"), (2, "success")]
    assert airflow.ti_states(dag_id, run_id)["after"] == "success"
    assert airflow.xcom(dag_id, run_id, "after") == "succeeded on try 2"
    assert_log_contains(airflow, dag_id, run_id, "flaky", 1, "failing on purpose on try 1")
    assert_log_contains(airflow, dag_id, run_id, "flaky", 2, "flaky running try_number=2")

    if temporal_enabled:
        wid = assert_one_workflow(stack, dag_id, run_id)
        acts = assert_attempt_activities(stack, wid, "flaky", len(tries))
        assert len(acts) == 2
        assert all(a.closed is not None for a in acts), describe_activities(stack.temporal_address, wid)
        assert_attempt_activities(stack, wid, "after", 1)


def test_task_with_queue_special_runs_on_the_special_worker(stack, airflow, require_temporal):
    dag_id = "e2e_queue_routing"
    run_id = run_dag(stack, dag_id)

    assert airflow.ti_states(dag_id, run_id) == {"on_special": "success", "on_default": "success"}
    assert_log_contains(airflow, dag_id, run_id, "on_special", 1, "running on queue special")

    wid = assert_one_workflow(stack, dag_id, run_id)
    (special,) = assert_attempt_activities(stack, wid, "on_special", 1)
    assert special.task_queue == "airflow:special", special
    assert special.started_identity and SPECIAL_IDENTITY in special.started_identity, special
    (default,) = assert_attempt_activities(stack, wid, "on_default", 1)
    assert default.task_queue == "airflow", default
    assert SPECIAL_IDENTITY not in (default.started_identity or ""), default


def test_marking_a_running_task_failed_stops_its_runner(stack, airflow, temporal_enabled):
    dag_id = "e2e_long_task"
    task_id = "long_sleep"
    marker_dir = stack.marker_dir / "cancel"
    run = airflow.trigger(dag_id, conf={"marker_dir": str(marker_dir)})
    run_id = run["dag_run_id"]
    base = marker_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    started, done = base.with_suffix(".started"), base.with_suffix(".done")

    wait_until(started.exists, RUN_TIMEOUT, f"{task_id} to start (marker {started})")
    started_at = time.monotonic()
    pid = int(started.read_text())
    assert airflow.task_instance(dag_id, run_id, task_id)["state"] == "running"

    airflow.set_ti_state(dag_id, run_id, task_id, "failed")

    final = airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert final["state"] == "failed"
    assert airflow.task_instance(dag_id, run_id, task_id)["state"] == "failed"
    # The task process itself must die (not just be forgotten).
    wait_until(lambda: not _alive(pid), 120, f"task process {pid} to exit")

    if temporal_enabled:
        wid = assert_one_workflow(stack, dag_id, run_id)

        assert_attempt_activities(stack, wid, task_id, 1)  # waits for the activity to close

    # Give a surviving runner every chance to finish its 30 s sleep, then prove it did not.
    remaining = 40 - (time.monotonic() - started_at)
    if remaining > 0:
        time.sleep(remaining)
    assert not done.exists(), f"{done} appeared: the task kept running after being marked failed"
    assert airflow.task_instance(dag_id, run_id, task_id)["state"] == "failed"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].split()[0] != "Z"  # a zombie is dead
    except (OSError, IndexError):
        return False


def test_each_dag_run_page_has_a_tab_linking_to_its_workflow_in_the_temporal_ui(stack, airflow, require_temporal):
    plugins = airflow.get("/plugins")["plugins"]
    [temporal] = [p for p in plugins if p["name"] == "temporal"]
    [view] = temporal["external_views"]
    assert (view["destination"], view["url_route"]) == ("dag_run", "temporal")  # a tab on the run page
    # The tab frames a page from Airflow's own origin (the Temporal UI refuses to be framed).
    href = view["href"].replace("{DAG_ID}", "etl").replace("{RUN_ID}", "manual__1")
    page = requests.get(stack.airflow_url + href, timeout=30)
    assert page.status_code == 200
    assert f'{stack.temporal_ui_url}/namespaces/default/workflows/dagrun%3Aetl%3Amanual__1' in page.text
