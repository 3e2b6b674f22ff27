"""What the fault suite observes while a scenario runs: the attempts the tasks of `e2e_faults_parallel`
recorded in their marker files, when each attempt's process was last seen alive, and every change of
state or try of each task instance as Airflow's REST API shows it."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from airflow_temporal_testing.stack import AirflowClient, process_alive

PROCESS_POLL = 0.25  # s between /proc scans of the attempts' pids
REST_POLL = 1.0  # s between reads of the task instances


def marker_file(marker_dir: Path, run_id: str) -> Path:
    """Where the DAG's tasks record the attempts of run_id (the DAG names it so)."""
    return marker_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", run_id) + ".jsonl")


@dataclass
class Attempt:
    """One attempt of one task instance, as its process recorded it."""

    run_id: str
    task_id: str
    try_number: int
    pid: int
    ppid: int | None = None
    worker_pid: int | None = None
    starttime: int | None = None
    start: float = 0.0
    end: float | None = None
    last_beat: float = 0.0
    last_seen_alive: float | None = None
    first_seen_dead: float | None = None

    @property
    def lost(self) -> bool:
        """Killed before it finished its work: a start and no end."""
        return self.end is None

    @property
    def died_at(self) -> float | None:
        """When its process was gone (for a lost attempt), bounded above by the first scan that missed it."""
        if self.end is not None:
            return self.end
        if self.first_seen_dead is not None:
            return self.first_seen_dead
        if self.last_seen_alive is None:  # never seen by a scan: gone within one poll of its last line
            return self.last_beat or self.start
        return None  # still alive


def read_attempts(marker_dir: Path, run_id: str) -> list[Attempt]:
    path = marker_file(marker_dir, run_id)
    if not path.exists():
        return []
    attempts: dict[tuple[str, int, int], Attempt] = {}
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:  # a line cut short by a kill -9 mid-write
            continue
        key = (rec["ti"], rec["try"], rec["pid"])
        a = attempts.setdefault(key, Attempt(run_id, rec["ti"], rec["try"], rec["pid"]))
        if rec["event"] == "start":
            a.start, a.ppid, a.worker_pid, a.starttime = rec["t"], rec["ppid"], rec["worker_pid"], rec["starttime"]
        elif rec["event"] == "end":
            a.end = rec["t"]
        a.last_beat = max(a.last_beat, rec["t"])
    return sorted(attempts.values(), key=lambda a: (a.task_id, a.start))


@dataclass
class TiChange:
    t: float
    run_id: str
    task_id: str
    state: str | None
    try_number: int


@dataclass
class Watch:
    """Background observation of one scenario's runs; start() before the fault, stop() once they ended."""

    airflow_url: str
    dag_id: str
    run_ids: list[str]
    marker_dir: Path
    ti_changes: list[TiChange] = field(default_factory=list)
    _seen: dict[tuple[int, int | None], list[float | None]] = field(default_factory=dict)  # [last alive, first dead]
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "Watch":
        for target in (self._watch_processes, self._watch_task_instances):
            t = threading.Thread(target=target, daemon=True, name=target.__name__)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def attempts(self) -> list[Attempt]:
        """Every attempt so far, with what the process scans saw of it."""
        out = []
        for run_id in self.run_ids:
            for a in read_attempts(self.marker_dir, run_id):
                a.last_seen_alive, a.first_seen_dead = self._seen.get((a.pid, a.starttime), [None, None])
                out.append(a)
        return out

    def _watch_processes(self) -> None:
        while not self._stop.is_set():
            for run_id in self.run_ids:
                for a in read_attempts(self.marker_dir, run_id):
                    seen = self._seen.setdefault((a.pid, a.starttime), [None, None])
                    if seen[1] is not None:
                        continue
                    now = time.time()
                    if process_alive(a.pid, a.starttime):
                        seen[0] = now
                    elif a.starttime is not None:
                        seen[1] = now
            self._stop.wait(PROCESS_POLL)

    def _watch_task_instances(self) -> None:
        client = AirflowClient(self.airflow_url, timeout=5)
        last: dict[tuple[str, str], tuple] = {}
        while not self._stop.is_set():
            for run_id in self.run_ids:
                try:
                    tis = client.task_instances(self.dag_id, run_id)
                except Exception:  # noqa: BLE001 - the API is down during some faults: try again
                    continue
                now = time.time()
                for ti in tis:
                    key, value = (run_id, ti["task_id"]), (ti["state"], ti["try_number"])
                    if last.get(key) != value:
                        last[key] = value
                        self.ti_changes.append(TiChange(now, run_id, ti["task_id"], *value))
            self._stop.wait(REST_POLL)

    def decided_at(self, attempt: Attempt) -> float | None:
        """When Airflow's state first showed attempt's try over (the TI left `running` at that try, or a
        later try began), or the next try's start marker, whichever came first."""
        times = [c.t for c in self.ti_changes
                 if (c.run_id, c.task_id) == (attempt.run_id, attempt.task_id) and c.t > attempt.start
                 and (c.try_number > attempt.try_number or c.state != "running")]
        times += [a.start for a in read_attempts(self.marker_dir, attempt.run_id)
                  if a.task_id == attempt.task_id and a.try_number > attempt.try_number]
        return min(times) if times else None
