"""End-to-end test DAG for scheduler crashes (tests/e2e/test_e2e_scheduler_crash.py): one task, `hold`,
that works until the test releases it, so the test can kill and restart the scheduler while it surely runs.

Every attempt appends JSON lines to `<marker_dir>/<safe run id>.jsonl`: `start` and `end`, each with the
try number, the pid and the time, so a test can count the attempts that ran and check that no two
overlapped. An attempt holds until `<marker_dir>/<safe run id>.release` exists (at most conf
`max_seconds`, default 600, so a forgotten run ends). conf `marker_dir` (default $AT_E2E_MARKER_DIR, else
the temp dir).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_scheduler_crash():
    @task
    def hold(**context) -> str:
        conf = context["dag_run"].conf or {}
        marker_dir = Path(conf.get("marker_dir") or os.environ.get("AT_E2E_MARKER_DIR") or tempfile.gettempdir())
        marker_dir.mkdir(parents=True, exist_ok=True)
        base = marker_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", context["run_id"])
        attempt = {"try": context["ti"].try_number, "pid": os.getpid()}

        def record(event: str) -> None:
            # One short line per O_APPEND write: lines of concurrent attempts never interleave.
            fd = os.open(base.with_suffix(".jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (json.dumps({**attempt, "event": event, "t": time.time()}) + "\n").encode())
            finally:
                os.close(fd)

        record("start")
        deadline = time.monotonic() + int(conf.get("max_seconds", 600))
        while not base.with_suffix(".release").exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        record("end")
        return "released"

    hold()


e2e_scheduler_crash()
