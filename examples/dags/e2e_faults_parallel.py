"""Fault-suite DAG (tests/faults): two parallel tasks longer than every heartbeat timeout, `steady`
(no retries) and `retrying` (retries=1, retry_delay 5 s), then `downstream`.

Every attempt appends JSON lines to `<marker_dir>/<safe run id>.jsonl`: `start` (with its pid, its
parent's pid, the pid of the worker JVM it runs under and its own start time in clock ticks, so a
test can tell a live process from a reused pid), a `beat` every second, and `end` when its work is
done. An attempt that was killed has a start and no end. conf: `seconds` (default 45) how long
the parallel tasks work, `retry_seconds` (default `seconds`) how long their later tries work,
`marker_dir` (default $AT_E2E_MARKER_DIR, else the temp dir).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import dag, task

DEFAULT_SECONDS = 45


def _proc_stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (index 0 is the state, 1 the ppid, 19 the start time)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _worker_jvm_pid() -> int | None:
    """The nearest ancestor that is a JVM: the worker this attempt runs under."""
    pid = os.getppid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "java":
                    return pid
            pid = int(_proc_stat(pid)[1])
        except (OSError, ValueError, IndexError):
            return None
    return None


def _marker_file(context) -> Path:
    conf = context["dag_run"].conf or {}
    marker_dir = Path(conf.get("marker_dir") or os.environ.get("AT_E2E_MARKER_DIR") or tempfile.gettempdir())
    marker_dir.mkdir(parents=True, exist_ok=True)
    return marker_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", context["run_id"]) + ".jsonl")


def _recorder(context):
    path = _marker_file(context)
    ti = context["ti"]
    base = {"ti": ti.task_id, "try": ti.try_number, "pid": os.getpid()}

    def record(event: str, **extra) -> None:
        # One short line per write with O_APPEND: lines of concurrent attempts never interleave.
        line = json.dumps({**base, "event": event, "t": time.time(), **extra}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    return record


def _work(context, seconds: int) -> int:
    record = _recorder(context)
    record("start", ppid=os.getppid(), worker_pid=_worker_jvm_pid(), starttime=int(_proc_stat(os.getpid())[19]))
    for i in range(seconds):
        time.sleep(1)
        record("beat")
        print(f"worked {i + 1}/{seconds} s", flush=True)
    record("end")
    return seconds


def _seconds(context) -> int:
    conf = context["dag_run"].conf or {}
    seconds = int(conf.get("seconds", DEFAULT_SECONDS))
    return int(conf.get("retry_seconds", seconds)) if context["ti"].try_number > 1 else seconds


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_faults_parallel():
    @task
    def steady(**context) -> int:
        return _work(context, _seconds(context))

    @task(retries=1, retry_delay=timedelta(seconds=5))
    def retrying(**context) -> int:
        return _work(context, _seconds(context))

    @task
    def downstream(a: int, b: int, **context) -> int:
        return _work(context, 1) + a + b

    downstream(steady(), retrying())


e2e_faults_parallel()
