"""Helpers for Temporal-owned runs in the end-to-end tests: the `airflow temporal trigger` CLI of the
stack's own Airflow environment, and a run's outcome (run state, TI states and tries, XComs) as read
through Airflow's REST API, in a form two runs can be compared by."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

from airflow_temporal_testing.stack import AirflowClient

CLI_TIMEOUT = 300


def owned_argv(stack, dag_id: str, *options: str) -> list[str]:
    return [stack.bin("airflow"), "temporal", "trigger", dag_id, *options]


def trigger_owned(stack, dag_id: str, *options: str, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """`airflow temporal trigger DAG_ID OPTIONS...` with the stack's Airflow environment; never raises on exit code."""
    return subprocess.run(owned_argv(stack, dag_id, *options), env=stack.airflow_env(), capture_output=True,
                          text=True, timeout=timeout)


def start_owned(stack, dag_id: str, *options: str) -> subprocess.Popen:
    """The same, in the background (e.g. with --wait while the test does other things)."""
    return subprocess.Popen(owned_argv(stack, dag_id, *options), env=stack.airflow_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def describe(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def xcom_entries(airflow: AirflowClient, dag_id: str, run_id: str) -> dict[tuple[str, int, str], object]:
    """Every XCom of the run: (task_id, map_index, key) -> deserialized value."""
    q = airflow.q
    base = f"/dags/{q(dag_id)}/dagRuns/{q(run_id)}/taskInstances"
    entries: list[dict] = []
    while True:
        page = airflow.get(f"{base}/~/xcomEntries", params={"limit": 100, "offset": len(entries)})
        entries += page["xcom_entries"]
        if not page["xcom_entries"] or len(entries) >= page["total_entries"]:
            break
    out = {}
    for e in entries:
        value = airflow.get(f"{base}/{q(e['task_id'])}/xcomEntries/{q(e['key'])}",
                            params={"map_index": e["map_index"], "deserialize": "true", "stringify": "false"})
        out[(e["task_id"], e["map_index"], e["key"])] = _normalized(e["key"], value["value"])
    return out


def _normalized(key: str, value):
    """The skip XCom lists task ids in set order, which differs between processes: sort it."""
    if key == "skipmixin_key" and isinstance(value, dict):
        return {k: sorted(v) if isinstance(v, list) else v for k, v in value.items()}
    return value


@dataclass
class RunOutcome:
    """What a finished run left in Airflow, independent of its run id and mode."""

    state: str
    tis: dict[tuple[str, int], tuple[str | None, int]]  # (task_id, map_index) -> (state, try_number)
    xcoms: dict[tuple[str, int, str], object]
    run: dict
    ti_rows: list[dict]
    # (task_id, map_index) -> what the UI shows of the task beside its state: TI_COLUMNS
    ti_columns: dict[tuple[str, int], tuple]

    def comparable(self) -> dict:
        return {"state": self.state, "tis": self.tis, "xcoms": self.xcoms, "ti_columns": self.ti_columns}


# Copied from the task into a new TI (TaskInstance.insert_mapping), the same in both modes; and the map index
# name the runner rendered from the task's map_index_template.
TI_COLUMNS = ("operator", "operator_name", "task_display_name", "pool", "pool_slots", "queue", "priority_weight",
              "max_tries", "rendered_map_index")


def run_outcome(airflow: AirflowClient, dag_id: str, run_id: str) -> RunOutcome:
    run = airflow.run(dag_id, run_id)
    rows = airflow.task_instances(dag_id, run_id)
    tis = {(ti["task_id"], ti["map_index"]): (ti["state"], ti["try_number"]) for ti in rows}
    columns = {(ti["task_id"], ti["map_index"]): tuple(ti.get(c) for c in TI_COLUMNS) for ti in rows}
    return RunOutcome(run["state"], tis, xcom_entries(airflow, dag_id, run_id), run, rows, columns)


def outcome_diff(a: RunOutcome, b: RunOutcome, a_name: str = "executor", b_name: str = "owned") -> str:
    """A readable list of the differences between two outcomes ('' when identical)."""
    lines = []
    if a.state != b.state:
        lines.append(f"DagRun state: {a_name}={a.state} {b_name}={b.state}")
    for kind, x, y in (("TI (state, try)", a.tis, b.tis), ("XCom", a.xcoms, b.xcoms),
                       (f"TI {TI_COLUMNS}", a.ti_columns, b.ti_columns)):
        for key in sorted(set(x) | set(y), key=repr):
            if x.get(key, "<absent>") != y.get(key, "<absent>"):
                lines.append(f"{kind} {key}: {a_name}={x.get(key, '<absent>')!r} {b_name}={y.get(key, '<absent>')!r}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Temporal Schedules (temporalio client, sync wrappers)
def describe_schedule(address: str, schedule_id: str):
    """The schedule's ScheduleDescription, or None while it does not exist."""
    import asyncio

    from temporalio.client import Client
    from temporalio.service import RPCError, RPCStatusCode

    async def go():
        client = await Client.connect(address, namespace="default")
        try:
            return await client.get_schedule_handle(schedule_id).describe()
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                return None
            raise

    return asyncio.run(go())


def trigger_schedule(stack, schedule_id: str) -> subprocess.CompletedProcess:
    """`temporal schedule trigger` (the venv's Temporal CLI) against the stack's dev server."""
    return subprocess.run([stack.bin("temporal"), "schedule", "trigger", "--schedule-id", schedule_id,
                           "--overlap-policy", "AllowAll", "--address", stack.temporal_address,
                           "--namespace", "default"], capture_output=True, text=True, timeout=60)


# ----------------------------------------------------------------------------------------------
# The attempts an OwnedDagRun workflow ran
OWNED_TASK_ACTIVITY_TYPE = "run_owned_task"


def owned_attempts(address: str, workflow_id: str) -> dict[tuple[str, int], list[tuple[int, str | None]]]:
    """(task_id, map_index) -> [(try_number, how the activity closed)], one entry per `run_owned_task` activity."""
    from airflow_temporal_testing.temporal import activities, history_events

    out: dict[tuple[str, int], list[tuple[int, str | None]]] = {}
    for a in activities(history_events(address, workflow_id)):
        if a.activity_type != OWNED_TASK_ACTIVITY_TYPE:
            continue
        ti = a.input[0]["ti"]
        out.setdefault((ti["task_id"], ti["map_index"]), []).append((ti["try_number"], a.closed))
    return {k: sorted(v) for k, v in out.items()}
