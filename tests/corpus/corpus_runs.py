"""Running the fidelity corpus and comparing its runs: each DAG once per mode, all at once, every outcome
read back through Airflow's REST API (what the UI shows)."""
from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from airflow_local_settings import LOCAL_RUN_PREFIX
from airflow_temporal_testing.owned import RunOutcome, owned_argv, run_outcome
from airflow_temporal_testing.stack import TERMINAL_RUN_STATES, AirflowClient
from corpus import HITL_ANSWERS, IGNORED_XCOM_KEYS

MODES = ("local", "executor", "owned")
REFERENCE_MODE = "local"
RUN_PREFIX = {"local": LOCAL_RUN_PREFIX, "executor": "corpus_executor__", "owned": "corpus_owned__"}
# Owned runs are started by `airflow temporal trigger` (without --wait: progress is read through REST like the
# others'); each CLI process imports Airflow, so only a few start at once.
OWNED_TRIGGERS_AT_ONCE = 4


@dataclass
class ModeRun:
    dag_id: str
    mode: str
    run_id: str
    trigger_error: str | None = None  # the trigger was refused: no run
    outcome: RunOutcome | None = None

    @property
    def state(self) -> str:
        if self.trigger_error is not None:
            return "refused"
        return self.outcome.state if self.outcome else "?"


@dataclass
class Difference:
    """One field that differs between a mode's run and the reference run."""

    task_id: str | None  # None: the DagRun itself
    map_index: int
    what: str  # "run state", "state", "try_number", "xcom:<key>", "trigger"
    reference: object
    value: object

    def __str__(self) -> str:
        where = "DagRun" if self.task_id is None else f"{self.task_id}[{self.map_index}]"
        return f"{where} {self.what}: local={self.reference!r} this={self.value!r}"


@dataclass
class Verdict:
    dag_id: str
    mode: str
    status: str  # reference / identical / allowed-difference / known-gap / DIFFERENT / GAP CLOSED
    differences: list[Difference] = field(default_factory=list)
    allowed: list[Difference] = field(default_factory=list)
    note: str = ""


def logical_dates() -> dict[str, datetime]:
    """A logical date per mode (a DAG's runs need distinct ones), seconds apart, all on one day: templates
    that render `ds` render the same in every mode."""
    base = datetime.now(timezone.utc).replace(microsecond=0)
    if base.hour == 23 and base.minute == 59:
        base += timedelta(minutes=1)
    return {mode: base + timedelta(seconds=i) for i, mode in enumerate(MODES)}


def trigger_all(stack, dag_ids: list[str], suffix: str) -> dict[tuple[str, str], ModeRun]:
    """Start every DAG in every mode: the owned runs through the CLI (a few processes at a time, in a thread,
    since each imports Airflow) while the two executors' runs are started through REST."""
    dates = logical_dates()
    runs: dict[tuple[str, str], ModeRun] = {}
    owned = threading.Thread(target=_trigger_owned, args=(stack, dag_ids, suffix, dates["owned"], runs))
    owned.start()
    try:
        airflow = stack.airflow
        for dag_id in dag_ids:
            for mode in ("local", "executor"):
                run = ModeRun(dag_id, mode, RUN_PREFIX[mode] + suffix)
                r = airflow.request("POST", f"/dags/{airflow.q(dag_id)}/dagRuns", expect=(200, 400, 409, 422),
                                    json={"dag_run_id": run.run_id, "logical_date": dates[mode].isoformat(),
                                          "conf": {}})
                if r.status_code != 200:
                    run.trigger_error = f"HTTP {r.status_code}: {r.text[:500]}"
                runs[(dag_id, mode)] = run
    finally:
        owned.join()
    return runs


def _trigger_owned(stack, dag_ids: list[str], suffix: str, logical_date: datetime,
                   runs: dict[tuple[str, str], ModeRun]) -> None:
    pending = list(dag_ids)
    in_flight: dict[str, tuple[ModeRun, subprocess.Popen]] = {}
    while pending or in_flight:
        while pending and len(in_flight) < OWNED_TRIGGERS_AT_ONCE:
            dag_id = pending.pop(0)
            run = ModeRun(dag_id, "owned", RUN_PREFIX["owned"] + suffix)
            argv = owned_argv(stack, dag_id, "--run-id", run.run_id, "--logical-date", logical_date.isoformat(),
                               "--poll-interval", "0.5")
            in_flight[dag_id] = (run, subprocess.Popen(argv, env=stack.airflow_env(), stdout=subprocess.PIPE,
                                                       stderr=subprocess.STDOUT, text=True))
        time.sleep(0.2)
        for dag_id, (run, proc) in list(in_flight.items()):
            if proc.poll() is None:
                continue
            out = proc.stdout.read()
            if proc.returncode != 0:
                run.trigger_error = f"`airflow temporal trigger` exit {proc.returncode}: {out.strip()[-800:]}"
            runs[(dag_id, "owned")] = run
            del in_flight[dag_id]


def corpus_run_states(airflow: AirflowClient, suffix: str) -> dict[tuple[str, str], str]:
    """(dag_id, run_id) -> state of every run whose id ends with suffix, in a few pages."""
    out: dict[tuple[str, str], str] = {}
    offset = 0
    while True:
        page = airflow.get("/dags/~/dagRuns", params={"run_id_pattern": suffix, "limit": 100, "offset": offset})
        for r in page["dag_runs"]:
            out[(r["dag_id"], r["dag_run_id"])] = r["state"]
        offset += len(page["dag_runs"])
        if not page["dag_runs"] or offset >= page["total_entries"]:
            return out


def answer_hitl_requests(airflow: AirflowClient, suffix: str) -> None:
    """Answer, as HITL_ANSWERS says, every Human-in-the-loop task of the corpus's runs that awaits input."""
    page = airflow.get("/dags/~/dagRuns/~/hitlDetails", params={"response_received": False, "limit": 100})
    for detail in page["hitl_details"]:
        ti = detail["task_instance"]
        answer = HITL_ANSWERS.get((ti["dag_id"], ti["task_id"]))
        if answer is None or not ti["dag_run_id"].endswith(suffix) or ti["state"] != "awaiting_input":
            continue
        airflow.request("PATCH", f"/dags/{airflow.q(ti['dag_id'])}/dagRuns/{airflow.q(ti['dag_run_id'])}"
                                 f"/taskInstances/{airflow.q(ti['task_id'])}/{ti['map_index']}/hitlDetails",
                        json={"params_input": {}, **answer}, expect=(200, 409))  # 409: answered meanwhile


def wait_all(airflow: AirflowClient, runs: dict[tuple[str, str], ModeRun], suffix: str, timeout: float) -> list[ModeRun]:
    """Wait until every started run has ended, answering its HITL tasks; returns those still unfinished at the
    timeout."""
    started = [r for r in runs.values() if r.trigger_error is None]
    deadline = time.monotonic() + timeout
    while True:
        answer_hitl_requests(airflow, suffix)
        states = corpus_run_states(airflow, suffix)
        unfinished = [r for r in started if states.get((r.dag_id, r.run_id)) not in TERMINAL_RUN_STATES]
        if not unfinished or time.monotonic() > deadline:
            return unfinished
        time.sleep(3)


def read_outcomes(airflow: AirflowClient, runs: dict[tuple[str, str], ModeRun]) -> None:
    for run in runs.values():
        if run.trigger_error is None:
            run.outcome = run_outcome(airflow, run.dag_id, run.run_id)


def fields(run: ModeRun) -> dict[tuple[str | None, int, str], object]:
    """What is compared, flattened: (task_id or None for the run, map_index, what) -> value."""
    if run.trigger_error is not None:
        return {(None, -1, "trigger"): "refused"}
    o = run.outcome
    out: dict[tuple[str | None, int, str], object] = {(None, -1, "run state"): o.state}
    for (task_id, map_index), (state, try_number) in o.tis.items():
        out[(task_id, map_index, "state")] = state
        out[(task_id, map_index, "try_number")] = try_number
    for (task_id, map_index, key), value in o.xcoms.items():
        out[(task_id, map_index, f"xcom:{key}")] = _without_ignored_keys(value)
    return out


def _without_ignored_keys(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_ignored_keys(v) for k, v in value.items() if k not in IGNORED_XCOM_KEYS}
    return value


def timed_out(run: ModeRun, dagrun_timeout: timedelta | None) -> bool:
    """Whether the run ended as a dagrun_timeout ends one: failed, at least the DAG's dagrun_timeout after it
    started."""
    o = run.outcome
    if o is None or dagrun_timeout is None or o.state != "failed":
        return False
    start, end = o.run.get("start_date"), o.run.get("end_date")
    return bool(start and end) and datetime.fromisoformat(end) - datetime.fromisoformat(start) >= dagrun_timeout


def timeout_explained(reference: ModeRun, other: ModeRun, dagrun_timeout: timedelta | None) -> list[Difference]:
    """The differences a dagrun_timeout explains: whether a run passes its timeout depends on the machine's load,
    not on the mode. When one run timed out (timed_out) and the other did not, their run states; and in any case
    every field of a task instance that a timed-out run left skipped (its state, its try number, the XComs it did
    not push), since the timeout skips what has not finished."""
    stopped = [r for r in (reference, other) if timed_out(r, dagrun_timeout)]
    skipped = {key for r in stopped for key, (state, _) in r.outcome.tis.items() if state == "skipped"}
    return [d for d in differences(reference, other)
            if (d.task_id is None and d.what == "run state" and len(stopped) == 1)
            or (d.task_id is not None and (d.task_id, d.map_index) in skipped)]


def differences(reference: ModeRun, other: ModeRun) -> list[Difference]:
    a, b = fields(reference), fields(other)
    absent = "<absent>"
    return [Difference(k[0], k[1], k[2], a.get(k, absent), b.get(k, absent))
            for k in sorted(set(a) | set(b), key=repr) if a.get(k, absent) != b.get(k, absent)]
