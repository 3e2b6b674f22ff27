"""Temporal-owned mode end to end, on the session's real stack: `airflow temporal trigger` starts an
`OwnedDagRun` workflow that creates a DagRun with run_type 'external' and runs every task itself,
while Airflow's scheduler (running all along) leaves it alone.

Everything is checked through Airflow's REST API (and Temporal's own API for the workflow side);
the differential tests run the same DAGs in executor mode and in Temporal-owned mode and require
identical outcomes.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus

from conftest import SCHEDULE_SYNC_INTERVAL
from e2e_checks import RUN_TIMEOUT, ts
from airflow_temporal_testing.owned import (
    TI_COLUMNS,
    describe,
    describe_schedule,
    outcome_diff,
    owned_attempts,
    run_outcome,
    start_owned,
    trigger_owned,
    trigger_schedule,
)
from airflow_temporal_testing.temporal import list_executions, workflow_outcome
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import REPO, wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")

OWNED_WORKFLOW_TYPE = "OwnedDagRun"


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _started_run_id(stdout: str) -> str:
    m = re.search(r"^Started run (\S+) of DAG", stdout, re.M)
    assert m, f"no 'Started run ...' line in:\n{stdout}"
    return m.group(1)


def _set_paused(airflow, dag_id: str, paused: bool) -> None:
    airflow.request("PATCH", f"/dags/{airflow.q(dag_id)}", json={"is_paused": paused})


def _run_ids(airflow, dag_id: str, **params) -> list[str]:
    data = airflow.get(f"/dags/{airflow.q(dag_id)}/dagRuns", params={"limit": 100, **params})
    return [r["dag_run_id"] for r in data["dag_runs"]]


def _no_run(airflow, dag_id: str, run_id: str) -> bool:
    r = airflow.request("GET", f"/dags/{airflow.q(dag_id)}/dagRuns/{airflow.q(run_id)}", expect=(200, 404))
    return r.status_code == 404


def _owned_workflow(stack, dag_id: str, run_id: str, status=WorkflowExecutionStatus.COMPLETED) -> dict:
    """The run's single OwnedDagRun execution, once visibility shows it with `status`."""
    wid = workflow_id(dag_id, run_id)
    execs = wait_until(
        lambda: (e := list_executions(stack.temporal_address, wid)) and all(x["status"] == status for x in e) and e,
        60, f"workflow {wid} {status.name} in Temporal visibility",
        on_timeout=lambda: repr(list_executions(stack.temporal_address, wid)))
    assert len(execs) == 1, execs
    assert execs[0]["type"] == OWNED_WORKFLOW_TYPE, execs
    return execs[0]


def _ti_db_fields(stack, dag_id: str, run_id: str) -> dict[str, tuple]:
    """Columns the REST API does not show: who queued each TI (a scheduler job) and the executor's id for it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.sql_alchemy_conn)
    try:
        with engine.connect() as c:
            rows = c.execute(text(
                "select task_id, map_index, queued_by_job_id, external_executor_id from task_instance "
                "where dag_id = :d and run_id = :r"), {"d": dag_id, "r": run_id}).all()
    finally:
        engine.dispose()
    return {f"{r.task_id}[{r.map_index}]": (r.queued_by_job_id, r.external_executor_id) for r in rows}


# ----------------------------------------------------------------------------------------------
# 1. One owned run, end to end
# ----------------------------------------------------------------------------------------------
def test_cli_trigger_wait_creates_an_external_run_that_its_workflow_runs_to_success(stack, airflow):
    dag_id = "example_temporal_chain"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)

    result = trigger_owned(stack, dag_id, "--wait", "--conf", '{"x": 1}')
    assert result.returncode == 0, describe(result)
    run_id = _started_run_id(result.stdout)
    assert run_id.startswith("external__"), run_id
    # The last progress line: "success", or "success: success=4" when the query beat the workflow's close.
    assert result.stdout.rstrip().splitlines()[-1].split(":")[0] == "success", describe(result)

    run = airflow.run(dag_id, run_id)
    assert (run["run_type"], run["state"], run["conf"], run["triggered_by"]) == ("external", "success", {"x": 1}, "cli")
    assert run["start_date"] and run["end_date"] and ts(run["start_date"]) <= ts(run["end_date"])
    assert run["last_scheduling_decision"] is None, "Airflow's scheduler looked at the run"
    assert run_id in _run_ids(airflow, dag_id, run_type="external")

    order = ["extract", "transform", "validate", "load"]
    tis = {ti["task_id"]: ti for ti in airflow.task_instances(dag_id, run_id)}
    assert set(tis) == set(order)
    for task_id in order:
        ti = tis[task_id]
        assert (ti["state"], ti["try_number"]) == ("success", 1), ti
        assert ti["start_date"] and ti["end_date"] and ts(ti["start_date"]) <= ts(ti["end_date"]), ti
        assert ti["queued_when"], ti
        log = airflow.log_text(dag_id, run_id, task_id, 1)
        assert log.strip(), f"empty log for {task_id}"
    for up, down in zip(order, order[1:]):
        assert ts(tis[up]["end_date"]) <= ts(tis[down]["start_date"]), f"{down} started before {up} ended"
    assert "extracted 4 rows" in airflow.log_text(dag_id, run_id, "extract", 1)
    assert airflow.xcom(dag_id, run_id, "load") == 100

    # The run page's Temporal tab links to this workflow: it exists under the DagRun's workflow id and completed.
    _owned_workflow(stack, dag_id, run_id)
    attempts = owned_attempts(stack.temporal_address, workflow_id(dag_id, run_id))
    assert attempts == {(task_id, -1): [(1, "completed")] for task_id in order}, attempts


# ----------------------------------------------------------------------------------------------
# 2. Differential: executor mode vs Temporal-owned mode
# ----------------------------------------------------------------------------------------------
DIFF_POOL = "e2e_diff_pool"

# What Airflow's semantics give (the executor-mode run must show the same, so both modes are anchored).
EXPECTED = {
    "e2e_diff_trigger_rules": ("failed", {
        "ok": ("success", 1), "boom": ("failed", 1),
        "on_all_success": ("upstream_failed", 0), "on_all_failed": ("skipped", 0),
        "on_all_done": ("success", 1), "on_all_done_min_one_success": ("success", 1),
        "on_all_skipped": ("skipped", 0), "on_one_success": ("success", 1), "on_one_failed": ("success", 1),
        "on_one_done": ("success", 1), "on_none_failed": ("upstream_failed", 0),
        "on_none_failed_min_one_success": ("upstream_failed", 0), "on_none_skipped": ("success", 1),
        "on_always": ("success", 1), "cascade": ("upstream_failed", 0)}),
    "e2e_diff_branch": ("success", {
        "choose": ("success", 1), "path_a": ("success", 1), "a_next": ("success", 1),
        "path_b": ("skipped", 0), "b_next": ("skipped", 0), "join": ("success", 1)}),
    "e2e_diff_short_circuit": ("success", {
        "gate": ("success", 1), "next_1": ("skipped", 0), "next_2": ("skipped", 0), "beside": ("success", 1)}),
    "e2e_diff_retries": ("failed", {
        "flaky": ("success", 2), "after": ("success", 1), "hopeless": ("failed", 2)}),
    "e2e_diff_xcom": ("success", {
        "numbers": ("success", 1), "stats": ("success", 1), "describe": ("success", 1)}),
    "e2e_diff_pool": ("success", {f"pooled_{i}": ("success", 1) for i in range(3)}),
    "e2e_diff_mapped": ("success", {
        "make": ("success", 1), "square": ("success", 1), "total": ("success", 1)}),
    # Keys (task_id, map_index) name one instance, a task_id every instance of the task.
    "e2e_diff_mapped_nested": ("success", {
        "make": ("success", 1), "double": ("success", 1), "add_ten": ("success", 1), "total": ("success", 1),
        ("pipeline.square", 0): ("success", 1), ("pipeline.square", 1): ("success", 1),
        ("pipeline.square", 2): ("failed", 1),
        # Instance 2 of the group failed: only that instance of label depends on it.
        ("pipeline.label", 0): ("success", 1), ("pipeline.label", 1): ("success", 1),
        ("pipeline.label", 2): ("upstream_failed", 0),
        "collect": ("success", 1)}),
}
# How many instances each mapped task has (every other task has one, map index -1).
EXPECTED_INSTANCES = {
    "e2e_diff_mapped": {"square": 3},
    "e2e_diff_mapped_nested": {"double": 3, "add_ten": 3, "pipeline.square": 3, "pipeline.label": 3},
}
EXPECTED_XCOMS = {
    "e2e_diff_xcom": {("numbers", -1, "return_value"): [1, 2, 3],
                      ("numbers", -1, "note"): {"source": "numbers", "n": 3},
                      ("stats", -1, "total"): 6, ("stats", -1, "count"): 3,
                      ("describe", -1, "return_value"): "3 numbers, total 6"},
    "e2e_diff_mapped": {("make", -1, "return_value"): [1, 2, 3], ("square", 0, "return_value"): 1,
                        ("square", 1, "return_value"): 4, ("square", 2, "return_value"): 9,
                        ("total", -1, "return_value"): 14},
    "e2e_diff_mapped_nested": {("double", 2, "return_value"): 6, ("add_ten", 0, "return_value"): 12,
                               ("add_ten", 2, "return_value"): 16, ("total", -1, "return_value"): 42,
                               ("pipeline.label", 1, "return_value"): "2^2=4",
                               ("collect", -1, "return_value"): ["1^2=1", "2^2=4"]},
    "e2e_diff_branch": {("choose", -1, "skipmixin_key"): {"followed": ["path_a"]}},
    "e2e_diff_retries": {("after", -1, "return_value"): "after: succeeded on try 2"},
}
# What the UI names a mapped instance (its rendered map_index_template).
EXPECTED_MAP_INDEX_NAMES = {"e2e_diff_mapped_nested": {("double", 0): "from 1", ("double", 2): "from 3"}}

MAX_ACTIVE_TASKS = {"e2e_diff_trigger_rules": 3}


def _peak_concurrency(ti_rows: list[dict]) -> int:
    events = []
    for ti in ti_rows:
        if ti["start_date"] and ti["end_date"]:
            events += [(ts(ti["start_date"]), 1), (ts(ti["end_date"]), -1)]
    peak = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # an end before a start at the same instant
        current += delta
        peak = max(peak, current)
    return peak


DIFF_CASES = [
    pytest.param("e2e_diff_trigger_rules", id="trigger-rules"),
    pytest.param("e2e_diff_branch", id="branch"),
    pytest.param("e2e_diff_short_circuit", id="short-circuit"),
    pytest.param("e2e_diff_retries", id="retries"),
    pytest.param("e2e_diff_xcom", id="xcom"),
    pytest.param("e2e_diff_pool", id="pool"),
    pytest.param("e2e_diff_mapped", id="mapped"),
    pytest.param("e2e_diff_mapped_nested", id="mapped-nested"),
]
DIFF_DAGS = [p.values[0] for p in DIFF_CASES if not any(m.name == "skip" for m in p.marks)]


def _ensure_pool(airflow, name: str, slots: int) -> None:
    r = airflow.request("POST", "/pools", json={"name": name, "slots": slots}, expect=(201, 200, 409))
    if r.status_code == 409:
        airflow.request("PATCH", f"/pools/{airflow.q(name)}", json={"name": name, "slots": slots})


def _wait_owned(dag_id: str, proc, deadline: float) -> tuple[int, str]:
    """The exit code and output of a background `airflow temporal trigger --wait`."""
    try:
        out, _ = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    except Exception:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"`airflow temporal trigger --wait` of {dag_id} did not end:\n{out}")
    return proc.returncode, out


DIFF_RUNS_IN_FLIGHT = 3


@pytest.fixture(scope="module")
def diff_runs(stack, airflow):
    """Every differential DAG run once in each mode. Returns
    {dag_id: (executor-mode run id, owned run id, (CLI exit code, CLI output))}.

    The owned runs are started with `airflow temporal trigger --wait`; each test checks its exit code.
    At most DIFF_RUNS_IN_FLIGHT runs are in flight at once, so that task runners do not pile up on a
    small machine (an executor-mode task queued for longer than the suite's 30 s [scheduler]
    task_queued_timeout is revoked). The pool DAG's two runs go first and together, so that the
    1-slot pool is shared by the two modes."""
    _ensure_pool(airflow, DIFF_POOL, 1)
    for dag_id in DIFF_DAGS:
        airflow.wait_for_dag(dag_id)
        airflow.unpause(dag_id)
    owned_run_id = f"owned_diff_{_suffix()}"
    deadline = time.monotonic() + 3 * RUN_TIMEOUT
    pending = [("e2e_diff_pool", "executor"), ("e2e_diff_pool", "owned")]
    pending += [(dag_id, mode) for dag_id in DIFF_DAGS if dag_id != "e2e_diff_pool" for mode in ("executor", "owned")]
    executor: dict[str, str] = {}
    cli: dict[str, tuple[int, str]] = {}
    in_flight: dict[tuple[str, str], object] = {}
    while pending or in_flight:
        while pending and len(in_flight) < DIFF_RUNS_IN_FLIGHT + (pending[0][0] == "e2e_diff_pool"):
            dag_id, mode = job = pending.pop(0)
            if mode == "executor":
                executor[dag_id] = airflow.trigger(dag_id, unpause=False, wait_parsed=0)["dag_run_id"]
            else:
                in_flight[job] = start_owned(stack, dag_id, "--wait", "--run-id", owned_run_id)
                continue
            in_flight[job] = executor[dag_id]
        time.sleep(1)
        for (dag_id, mode), handle in list(in_flight.items()):
            if mode == "owned" and handle.poll() is not None:
                cli[dag_id] = _wait_owned(dag_id, handle, deadline)
                del in_flight[(dag_id, mode)]
            elif mode == "executor" and airflow.run(dag_id, handle)["state"] in ("success", "failed"):
                del in_flight[(dag_id, mode)]
        assert time.monotonic() < deadline, f"differential runs still in flight: {list(in_flight)}"
    return {dag_id: (executor[dag_id], owned_run_id, cli[dag_id]) for dag_id in DIFF_DAGS}


@pytest.mark.parametrize("dag_id", DIFF_CASES)
def test_executor_mode_and_owned_mode_end_with_identical_states_tries_and_xcoms(stack, airflow, diff_runs, dag_id):
    executor_run_id, owned_run_id, (exit_code, cli_output) = diff_runs[dag_id]
    # `--wait` exits 0 when the run succeeded, 1 when it failed.
    assert exit_code == (0 if EXPECTED[dag_id][0] == "success" else 1), f"exit {exit_code}\n{cli_output}"
    ex = run_outcome(airflow, dag_id, executor_run_id)
    ow = run_outcome(airflow, dag_id, owned_run_id)
    assert (ex.run["run_type"], ow.run["run_type"]) == ("manual", "external")

    diff = outcome_diff(ex, ow)
    assert not diff, f"{dag_id}: executor run {executor_run_id} and owned run {owned_run_id} differ:\n{diff}"

    # Both are also what Airflow's semantics say (identical but both wrong would not do).
    state, expected_tis = EXPECTED[dag_id]
    assert ow.state == state
    instances = EXPECTED_INSTANCES.get(dag_id, {})
    expected_keys = {(task_id, i) for task_id in {k if isinstance(k, str) else k[0] for k in expected_tis}
                     for i in (range(instances[task_id]) if task_id in instances else [-1])}
    assert set(ow.tis) == expected_keys, sorted(ow.tis)
    assert ow.tis == {key: expected_tis.get(key, expected_tis.get(key[0])) for key in ow.tis}, ow.tis
    for key, value in EXPECTED_XCOMS.get(dag_id, {}).items():
        assert ow.xcoms.get(key) == value, (key, ow.xcoms)
    for key, name in EXPECTED_MAP_INDEX_NAMES.get(dag_id, {}).items():
        assert ow.ti_columns[key][TI_COLUMNS.index("rendered_map_index")] == name, ow.ti_columns[key]

    # max_active_tasks holds in both modes.
    limit = MAX_ACTIVE_TASKS.get(dag_id)
    if limit:
        for outcome in (ex, ow):
            peak = _peak_concurrency(outcome.ti_rows)
            assert peak <= limit, f"{outcome.run['run_type']} run had {peak} tasks running at once (limit {limit})"

    # Retried tasks: the same try history, and Airflow's retry_delay honoured in both modes.
    for (task_id, map_index), (_, try_number) in ow.tis.items():
        if try_number > 1:
            histories = {}
            for name, run_id in (("executor", executor_run_id), ("owned", owned_run_id)):
                tries = sorted(airflow.tries(dag_id, run_id, task_id), key=lambda t: t["try_number"])
                histories[name] = [(t["try_number"], t["state"]) for t in tries]
                delay = 3 if task_id == "flaky" else 2
                gap = ts(tries[1]["start_date"]) - ts(tries[0]["end_date"])
                assert gap >= timedelta(seconds=delay), f"{name} {task_id}: try 2 started {gap} after try 1 ended"
            assert histories["executor"] == histories["owned"], histories
            assert histories["owned"][0][1] == "failed", histories

    # The owned run was run (and closed) by its own workflow, one activity per try, never seen by Airflow's scheduler.
    assert ow.run["last_scheduling_decision"] is None
    _owned_workflow(stack, dag_id, owned_run_id)
    attempts = owned_attempts(stack.temporal_address, workflow_id(dag_id, owned_run_id))
    ran = {key: [t for t, _ in tries] for key, tries in attempts.items()}
    assert ran == {key: list(range(1, n + 1)) for key, (_, n) in ow.tis.items() if n > 0}, attempts
    assert all(closed == "completed" for tries in attempts.values() for _, closed in tries), attempts


def test_a_one_slot_pool_runs_its_tasks_one_at_a_time_across_both_modes(airflow, diff_runs):
    dag_id = "e2e_diff_pool"
    executor_run_id, owned_run_id, _ = diff_runs[dag_id]

    def intervals(run_id):
        tis = airflow.task_instances(dag_id, run_id)
        assert all(ti["pool"] == DIFF_POOL and ti["state"] == "success" for ti in tis), tis
        return sorted((ts(ti["start_date"]), ts(ti["end_date"]), f"{run_id}/{ti['task_id']}") for ti in tis)

    def overlaps(spans):
        return [(a[2], b[2]) for a, b in zip(spans, spans[1:]) if b[0] < a[1]]

    owned = intervals(owned_run_id)
    assert len(owned) == 3
    assert not overlaps(owned), f"owned tasks of the 1-slot pool overlapped: {owned}"
    # The two runs were in flight together (see diff_runs): the slot is shared with the scheduler's run too.
    both = sorted(owned + intervals(executor_run_id))
    assert not overlaps(both), f"tasks of the 1-slot pool overlapped across the two runs: {both}"


# ----------------------------------------------------------------------------------------------
# 3. Airflow's scheduler leaves an external run alone; its REST API shows it live
# ----------------------------------------------------------------------------------------------
LONG_SECONDS = 60


def test_the_scheduler_never_touches_a_running_owned_run_while_rest_shows_it_live(stack, airflow):
    dag_id, task_id = "e2e_owned_long_task", "long_sleep"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    run_id = f"owned_live_{_suffix()}"
    scheduler_log = stack.logs_dir / "airflow-scheduler.log"
    proc = start_owned(stack, dag_id, "--wait", "--run-id", run_id, "--conf", json.dumps({"seconds": LONG_SECONDS}))
    try:
        wait_until(lambda: airflow.task_instance(dag_id, run_id, task_id)["state"] == "running", RUN_TIMEOUT,
                   f"{task_id} running", interval=1, on_timeout=lambda: repr(airflow.ti_states(dag_id, run_id)))
        assert run_id in _run_ids(airflow, dag_id, run_type="external")
        heartbeats, slept = set(), []
        while airflow.task_instance(dag_id, run_id, task_id)["state"] == "running":
            run = airflow.run(dag_id, run_id)
            assert (run["run_type"], run["state"], run["end_date"]) == ("external", "running", None), run
            assert run["last_scheduling_decision"] is None, run
            states = airflow.ti_states(dag_id, run_id)
            assert states["warm_up"] == "success", states
            assert states["after"] is None, states
            tries = [(t["try_number"], t["state"]) for t in airflow.tries(dag_id, run_id, task_id)]
            assert tries[0] == (1, "running") or tries[0] == (1, "success"), tries  # it may just have ended
            log = airflow.log_text(dag_id, run_id, task_id, 1)
            slept.append(len(re.findall(r"slept \d+/", log)))
            for ti, (queued_by, external_id) in _ti_db_fields(stack, dag_id, run_id).items():
                assert queued_by is None and external_id is None, f"{ti} queued by scheduler job {queued_by}"
            heartbeats.add(airflow.health()["scheduler"]["latest_scheduler_heartbeat"])
            time.sleep(5)
        # The log grew while the task ran (read live, not only after the end), and the scheduler was alive all along.
        assert len(set(slept)) >= 3 and slept == sorted(slept) and slept[-1] > 0, slept
        assert len(heartbeats) >= 3, heartbeats

        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        assert proc.returncode == 0, out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    run = airflow.run(dag_id, run_id)
    assert (run["state"], run["last_scheduling_decision"]) == ("success", None), run
    assert {k: (ti["state"], ti["try_number"]) for k, ti in
            ((ti["task_id"], ti) for ti in airflow.task_instances(dag_id, run_id))} == {
        "warm_up": ("success", 1), task_id: ("success", 1), "after": ("success", 1)}
    assert airflow.xcom(dag_id, run_id, "after") == f"slept {LONG_SECONDS}s"
    assert f"slept {LONG_SECONDS}/{LONG_SECONDS}" in airflow.log_text(dag_id, run_id, task_id, 1)
    assert all(v == (None, None) for v in _ti_db_fields(stack, dag_id, run_id).values())
    assert run_id not in scheduler_log.read_text(errors="replace"), f"the scheduler log mentions {run_id}"


# ----------------------------------------------------------------------------------------------
# 4. Bad input is refused at trigger time, and creates no DagRun
# ----------------------------------------------------------------------------------------------
# (dag_id, trigger options, paused: set it so / None for no such DAG, message, refused by the workflow
# rather than by the CLI before Temporal is contacted)
BAD_INPUT = [
    pytest.param("e2e_owned_no_such_dag", [], None,
                 "DAG 'e2e_owned_no_such_dag' is not in Airflow's metadata DB", True, id="unknown-dag"),
    pytest.param("example_temporal_chain", ["--conf", "[1, 2]"], False,
                 "conf must be a JSON object, got array", False, id="conf-array"),
    pytest.param("example_temporal_chain", ["--conf", '"text"'], False,
                 "conf must be a JSON object, got string", False, id="conf-string"),
    pytest.param("example_temporal_chain", ["--conf", "{x: 1}"], False,
                 "--conf is not valid JSON", False, id="conf-not-json"),
    pytest.param("e2e_owned_missing_pool", [], False,
                 "pool 'e2e_no_such_pool' does not exist in Airflow's metadata DB", True, id="missing-pool"),
    pytest.param("example_temporal_chain", [], True,
                 "DAG 'example_temporal_chain' is paused: unpause it", True, id="paused-dag"),
]


@pytest.mark.parametrize(("dag_id", "options", "paused", "message", "by_workflow"), BAD_INPUT)
def test_bad_trigger_input_exits_non_zero_naming_the_problem_and_creates_no_run(stack, airflow, dag_id, options,
                                                                               paused, message, by_workflow):
    run_id = f"owned_bad_{_suffix()}"
    before = None
    if paused is not None:
        airflow.wait_for_dag(dag_id)
        _set_paused(airflow, dag_id, paused)
        before = _run_ids(airflow, dag_id)
    try:
        result = trigger_owned(stack, dag_id, "--run-id", run_id, *options)
    finally:
        if paused:
            _set_paused(airflow, dag_id, False)
    assert result.returncode != 0, describe(result)
    assert message in result.stderr, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    if by_workflow:  # however soon the workflow closed, the CLI reports the refusal, not a failed workflow
        assert f"error: run {run_id} of DAG {dag_id} was rejected: " in result.stderr, describe(result)

    if paused is None:  # the DAG does not exist: neither does any run of it
        assert airflow.request("GET", f"/dags/{dag_id}", expect=(404,)).status_code == 404
    else:
        assert _no_run(airflow, dag_id, run_id)
        assert _run_ids(airflow, dag_id) == before


def _java_trigger(stack, dag_id: str, *options: str):
    """The worker JAR's `trigger` command: it starts the workflow without Airflow's Python, as a Schedule's firing
    does, so only the workflow's `create_dag_run` step can check the DAG's params."""
    return subprocess.run(["java", "-jar", str(stack.worker_jar), "trigger", dag_id, "--address",
                           stack.temporal_address, "--namespace", "default", "--task-queue", "airflow", *options],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)


def test_a_conf_the_dags_params_reject_is_refused_by_the_workflow_with_airflows_message_and_creates_no_run(
        stack, airflow):
    dag_id = "e2e_owned_params"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    before = _run_ids(airflow, dag_id)
    run_id = f"owned_params_{_suffix()}"
    refused = _java_trigger(stack, dag_id, "--run-id", run_id, "--conf", '{"count": 3}')
    assert refused.returncode == 1, describe(refused)
    assert ("the run's conf does not satisfy the DAG's params: Invalid input for param name: "
            "No value passed") in refused.stderr, describe(refused)
    assert "Traceback" not in refused.stderr, describe(refused)
    assert _no_run(airflow, dag_id, run_id) and _run_ids(airflow, dag_id) == before
    _owned_workflow(stack, dag_id, run_id, status=WorkflowExecutionStatus.FAILED)

    accepted_id = f"owned_params_{_suffix()}"
    accepted = _java_trigger(stack, dag_id, "--run-id", accepted_id, "--conf", '{"name": "x"}', "--wait")
    assert accepted.returncode == 0, describe(accepted)
    assert airflow.xcom(dag_id, accepted_id, "greet") == "x x2"


def test_a_run_id_already_used_by_an_owned_run_is_refused_and_the_first_run_left_as_it_was(stack, airflow):
    dag_id = "example_temporal_chain"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    run_id = f"owned_dup_{_suffix()}"
    first = trigger_owned(stack, dag_id, "--run-id", run_id, "--conf", '{"n": 1}')
    assert first.returncode == 0, describe(first)

    second = trigger_owned(stack, dag_id, "--run-id", run_id, "--conf", '{"n": 2}')
    assert second.returncode != 0, describe(second)
    assert f"run {run_id} of DAG {dag_id} was already started" in second.stderr, describe(second)
    assert "pick another --run-id" in second.stderr

    final = airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert (final["run_type"], final["state"], final["conf"]) == ("external", "success", {"n": 1})
    assert _run_ids(airflow, dag_id).count(run_id) == 1
    assert {ti["try_number"] for ti in airflow.task_instances(dag_id, run_id)} == {1}
    _owned_workflow(stack, dag_id, run_id)


def test_a_run_id_already_used_by_an_airflow_run_is_refused_and_that_run_left_to_airflow(stack, airflow):
    dag_id = "example_temporal_chain"
    run_id = f"manual_dup_{_suffix()}"
    airflow.trigger(dag_id, run_id=run_id, conf={"by": "rest"})

    result = trigger_owned(stack, dag_id, "--run-id", run_id, "--conf", '{"by": "cli"}')
    assert result.returncode != 0, describe(result)
    assert run_id in result.stderr and "pick another --run-id" in result.stderr, describe(result)

    final = airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    assert (final["run_type"], final["state"], final["conf"]) == ("manual", "success", {"by": "rest"})
    assert _run_ids(airflow, dag_id).count(run_id) == 1


# ----------------------------------------------------------------------------------------------
# 5. Temporal Schedules for DAGs tagged `temporal`
# ----------------------------------------------------------------------------------------------
SCHEDULED_DAG = "e2e_owned_schedule"
# Long enough for a few sync rounds even if a later-started worker set the loop's interval to 30 s.
SYNC_WAIT = max(6 * SCHEDULE_SYNC_INTERVAL, 75)


def _airflow_skips_temporal_scheduled_dags() -> bool:
    """Whether the python-bridge keeps Airflow's own scheduler from creating runs of opted-in DAGs."""
    package = REPO / "python-bridge" / "airflow_temporal"
    return any("dags_needing_dagruns" in p.read_text(errors="replace") for p in Path(package).glob("*.py"))


def _unpaused_schedule(stack, airflow, dag_id: str):
    """Unpause the DAG and wait for the sync to give it its schedule, unpaused: the schedule's description."""
    schedule_id = f"airflow-dag:{dag_id}"
    airflow.wait_for_dag(dag_id)
    airflow.unpause(dag_id)
    return wait_until(lambda: (d := describe_schedule(stack.temporal_address, schedule_id))
                      and not d.schedule.state.paused and d, SYNC_WAIT,
                      f"schedule {schedule_id} to exist unpaused", interval=1)


def _fire(stack, schedule_id: str):
    """Fire the schedule by hand: the action it took (ScheduleActionResult: when, and the workflow it started)."""
    before = len(describe_schedule(stack.temporal_address, schedule_id).info.recent_actions)
    result = trigger_schedule(stack, schedule_id)
    assert result.returncode == 0, result.stdout + result.stderr
    desc = wait_until(lambda: (d := describe_schedule(stack.temporal_address, schedule_id))
                      and len(d.info.recent_actions) > before and d, 60, f"a new action of {schedule_id}",
                      interval=1)
    return desc.info.recent_actions[-1]


def test_a_temporal_tagged_dag_gets_a_schedule_whose_firing_creates_an_external_run_and_pausing_pauses_it(
        stack, airflow):
    dag_id, schedule_id = SCHEDULED_DAG, f"airflow-dag:{SCHEDULED_DAG}"
    try:
        desc = _unpaused_schedule(stack, airflow, dag_id)
        assert (desc.schedule.state.note or "").startswith("managed by airflow-temporal"), desc.schedule.state
        before_runs = set(_run_ids(airflow, dag_id, run_type="external"))

        fired_at = _fire(stack, schedule_id).scheduled_at
        (run_id,) = wait_until(lambda: set(_run_ids(airflow, dag_id, run_type="external")) - before_runs,
                               RUN_TIMEOUT, f"an external run of {dag_id}", interval=1)
        final = airflow.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
        assert (final["run_type"], final["state"], final["triggered_by"], final["conf"]) == (
            "external", "success", "timetable", {}), final
        # A cron (trigger) timetable: logical date = run_after = the firing time, to the second (a manual
        # trigger fires at a fractional second; the run's dates come out truncated to whole seconds).
        assert ts(final["logical_date"]) == fired_at.replace(microsecond=0), (final["logical_date"], fired_at)
        assert ts(final["run_after"]) == ts(final["logical_date"]), final
        assert final["last_scheduling_decision"] is None
        ti = airflow.task_instance(dag_id, run_id, "fired")
        assert (ti["state"], ti["try_number"]) == ("success", 1), ti
        assert ts(airflow.xcom(dag_id, run_id, "fired")) == ts(final["logical_date"])
        _owned_workflow(stack, dag_id, run_id)

        if _airflow_skips_temporal_scheduled_dags():
            # Airflow would create the latest cron tick's run right after the unpause; it must not.
            scheduled = _run_ids(airflow, dag_id, run_type="scheduled")
            assert scheduled == [], f"Airflow's scheduler created {scheduled} for a Temporal-scheduled DAG"
    finally:
        _set_paused(airflow, dag_id, True)

    wait_until(lambda: describe_schedule(stack.temporal_address, schedule_id).schedule.state.paused, SYNC_WAIT,
               f"schedule {schedule_id} paused after the DAG was paused", interval=1)


def test_a_schedule_firing_checks_the_dags_params_creating_a_run_with_valid_defaults_and_none_when_they_fail(
        stack, airflow):
    valid, failing = "e2e_owned_schedule_params", "e2e_owned_schedule_params_required"
    try:
        # Defaults that validate: the firing's conf is {}, the task sees the defaults.
        _unpaused_schedule(stack, airflow, valid)
        _fire(stack, f"airflow-dag:{valid}")
        (run_id,) = wait_until(lambda: _run_ids(airflow, valid, run_type="external"), RUN_TIMEOUT,
                               f"an external run of {valid}", interval=1)
        final = airflow.wait_for_run(valid, run_id, timeout=RUN_TIMEOUT)
        assert (final["state"], final["triggered_by"], final["conf"]) == ("success", "timetable", {}), final
        assert airflow.xcom(valid, run_id, "greet") == "hello x2"
        _owned_workflow(stack, valid, run_id)

        # A required param without a default: the firing starts its OwnedDagRun, which refuses the run with
        # Airflow's message and writes nothing.
        _unpaused_schedule(stack, airflow, failing)
        firing = _fire(stack, f"airflow-dag:{failing}").action.workflow_id
        ended, owned_id = wait_until(lambda: (o := workflow_outcome(stack.temporal_address, firing))[0] != "open"
                                     and o, 60, f"the firing {firing} to end", interval=1)
        assert ended == "completed", owned_id
        ended, (failure_type, message) = wait_until(
            lambda: (o := workflow_outcome(stack.temporal_address, owned_id))[0] != "open" and o, RUN_TIMEOUT,
            f"the OwnedDagRun {owned_id} to end", interval=1)
        assert (ended, failure_type) == ("failed", "DagRunRejected"), message
        assert ("the run's conf does not satisfy the DAG's params: Invalid input for param name: "
                "No value passed") in message, message
        assert _run_ids(airflow, failing) == []
    finally:
        _set_paused(airflow, valid, True)
        _set_paused(airflow, failing, True)
