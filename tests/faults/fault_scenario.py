"""One fault scenario on the fault suite's stack: the workers it needs, one run of `e2e_faults_parallel`
in executor mode and one Temporal-owned run started together, the fault applied by the test while both
are mid-attempt, then every check of fault_expectations and a row of the summary table."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field

from airflow_temporal_testing.owned import start_owned
from airflow_temporal_testing.temporal import activities, history_events
from fault_expectations import DAG_ID, PARALLEL, check_run
from fault_watch import Attempt, Watch
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import Proc, Stack, StackError, WorkerSpec, wait_until

WORKERS = {name: WorkerSpec(queues="default", identity=f"faults-{name}") for name in ("a", "b")}
TASK_ACTIVITY_TYPES = ("run_task", "run_owned_task")
RETRY_SECONDS = 10  # how long a later try of a parallel task works (it only has to succeed)
STARTED_TIMEOUT = 180  # s for every parallel attempt of both runs to start
RUNNERS_GONE_TIMEOUT = 60  # s for runners to exit once their runs ended
STOP_IDLE_WORKER_TIMEOUT = 120  # s for an idle worker to exit on SIGTERM
SUMMARY_COLUMNS = [("scenario", "scenario"), ("mode", "mode"), ("run", "run"), ("tis", "TI state/try"),
                   ("lost", "lost"), ("overlap", "overlap"), ("detection", "detection"),
                   ("left", "runners left"), ("notes", "notes")]


def summary_table(rows: list[dict]) -> str:
    """The scenarios' rows as a Markdown table (the figures issue 11's closing note quotes)."""
    lines = ["| " + " | ".join(title for _, title in SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    lines += ["| " + " | ".join(str(r.get(key, "")) for key, _ in SUMMARY_COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def worker(stack: Stack, name: str) -> Proc:
    return stack.proc_named(WORKERS[name].name)


def use_workers(stack: Stack, names: list[str]) -> None:
    """Exactly these workers (by name: a, b) running and polling; the others stopped with SIGTERM."""
    for proc in stack.workers_running():
        if proc.spec.identity not in {WORKERS[n].identity for n in names}:
            stack.sigterm_worker(proc)
            stack.wait_exited(proc, STOP_IDLE_WORKER_TIMEOUT)
    running = {p.spec.identity for p in stack.workers_running()}
    for n in names:
        if WORKERS[n].identity not in running:
            stack.wait_worker_polling(stack.start_worker(WORKERS[n]))


@dataclass
class Scenario:
    stack: Stack
    name: str
    allow_loss: bool  # may a fault truly lose an attempt here (then Airflow's retry rules apply)?
    seconds: int  # how long the first tries of the parallel tasks work
    rows: list[dict]
    fault_at: float = 0.0
    notes: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # mode -> run id

    def start_runs(self) -> None:
        """Both modes' runs at once; returns once every parallel attempt of both has started."""
        suffix = uuid.uuid4().hex[:6]
        self.marker_dir = self.stack.marker_dir / f"{self.name.split()[0]}_{suffix}"
        conf = {"seconds": self.seconds, "retry_seconds": RETRY_SECONDS, "marker_dir": str(self.marker_dir)}
        airflow = self.stack.airflow
        airflow.wait_for_dag(DAG_ID)
        airflow.unpause(DAG_ID)
        self.runs = {"executor": f"executor_{suffix}", "owned": f"owned_{suffix}"}
        owned_cli = start_owned(self.stack, DAG_ID, "--run-id", self.runs["owned"], "--conf", json.dumps(conf))
        airflow.trigger(DAG_ID, conf=conf, run_id=self.runs["executor"], unpause=False, wait_parsed=0)
        out, _ = owned_cli.communicate(timeout=300)
        assert owned_cli.returncode == 0, f"owned run not started: exit {owned_cli.returncode}\n{out}"
        self.watch = Watch(self.stack.airflow_url, DAG_ID, list(self.runs.values()), self.marker_dir).start()
        wanted = {(run_id, task) for run_id in self.runs.values() for task in PARALLEL}
        try:
            wait_until(lambda: wanted <= {(a.run_id, a.task_id) for a in self.watch.attempts()}, STARTED_TIMEOUT,
                       "every parallel attempt of both runs to start",
                       on_timeout=lambda: f"TIs: {[airflow.ti_states(DAG_ID, r) for r in self.runs.values()]}")
        except BaseException:
            self.watch.stop()
            raise

    def attempts_on(self, proc: Proc) -> list[Attempt]:
        return [a for a in self.watch.attempts() if a.worker_pid == proc.popen.pid]

    def finish(self) -> list[str]:
        """Wait for both runs to end and their runners to exit, check everything, add the summary rows;
        returns the problems (the test asserts there are none after the table is printed)."""
        problems = []
        hit = [a for a in self.watch.attempts()
               if a.task_id in PARALLEL and a.start < self.fault_at and (a.end is None or a.end > self.fault_at)]
        if len(hit) < 2 * len(PARALLEL):
            problems.append(f"the fault hit only {len(hit)} of the {2 * len(PARALLEL)} parallel attempts mid-run: "
                            f"it proves nothing about the others")
        timeout = 300 + 2 * self.seconds
        for mode, run_id in self.runs.items():
            try:
                self.stack.airflow.wait_for_run(DAG_ID, run_id, timeout=timeout)
            except StackError as exc:
                problems.append(f"{mode}: {exc}")
                timeout = 1  # the other run had the same time
        left = self._runner_processes_left()
        self.watch.stop()
        now = time.time()
        all_attempts = self.watch.attempts()
        for mode, run_id in self.runs.items():
            run = self.stack.airflow.run(DAG_ID, run_id)
            tis = {ti["task_id"]: (ti["state"], ti["try_number"])
                   for ti in self.stack.airflow.task_instances(DAG_ID, run_id)}
            attempts = [a for a in all_attempts if a.run_id == run_id]
            row, run_problems = check_run(mode, run, tis, attempts, self.watch, self.fault_at, now, self.allow_loss)
            notes = self.notes + self._given_up(run_id, attempts)
            row.update(scenario=self.name, left=len(left), notes="; ".join(notes))
            self.rows.append(row)
            problems += [f"{mode}: {p}" for p in run_problems]
        if left:
            problems.append(f"runner processes left after the runs ended: {left}")
        self._clean_up_stuck_runs()
        return problems

    def _given_up(self, run_id: str, attempts: list[Attempt]) -> list[str]:
        """Task activities that did not complete although their attempt finished its work: the product
        gave up on (or lost track of) an attempt whose runner was working (a note for the table; what it
        did to the run the checks judge)."""
        finished = {(a.task_id, a.try_number) for a in attempts if not a.lost}
        try:
            acts = activities(history_events(self.stack.temporal_address, workflow_id(DAG_ID, run_id)))
        except Exception as exc:  # noqa: BLE001 - a note only
            return [f"history unreadable: {exc!r}"]
        given_up = []
        for act in acts:
            attempt = (act.input[0].get("attempt") or act.input[0].get("ti")) if act.input else None
            if act.activity_type in TASK_ACTIVITY_TYPES and attempt and act.closed not in (None, "completed") \
                    and (attempt["task_id"], attempt["try_number"]) in finished:
                given_up.append(f"{attempt['task_id']}#{attempt['try_number']} {act.closed}")
        return [f"activity of a finished attempt {', '.join(given_up)}"] if given_up else []

    def _runner_processes_left(self) -> dict[int, str]:
        """Runner processes still alive RUNNERS_GONE_TIMEOUT s after the runs ended (then killed, so
        the next scenario starts clean): the stack's own scan plus the attempts' recorded pids."""
        def left():
            procs = self.stack.runner_processes()
            for a in self.watch.attempts():
                if a.died_at is None and a.pid not in procs:
                    procs[a.pid] = f"attempt {a.run_id}/{a.task_id} try {a.try_number}"
            return procs

        deadline = time.monotonic() + RUNNERS_GONE_TIMEOUT
        while (procs := left()) and time.monotonic() < deadline:
            time.sleep(1)
        for pid in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return procs

    def _clean_up_stuck_runs(self) -> None:
        """A run that did not end is failed in Airflow and its workflow terminated, so that it does not
        disturb the next scenario."""
        for run_id in self.runs.values():
            if self.stack.airflow.run(DAG_ID, run_id)["state"] in ("success", "failed"):
                continue
            self.stack.airflow.request("PATCH", f"/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": "failed"})
            subprocess.run([self.stack.bin("temporal"), "workflow", "terminate", "--workflow-id",
                            workflow_id(DAG_ID, run_id), "--address", self.stack.temporal_address,
                            "--reason", "fault suite: run did not end"], capture_output=True, timeout=60)
