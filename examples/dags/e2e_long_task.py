"""End-to-end test DAG: one task sleeping 30 s, used by the cancel test.

The task writes `<marker_dir>/<safe run id>.started` (containing its pid) when it starts and
`<marker_dir>/<safe run id>.done` when it finishes its sleep. The marker dir comes from the run's
conf (`marker_dir`), else the `AT_E2E_MARKER_DIR` env var, else the temp dir. A test that cancels
the task asserts that `.done` never appears and that the pid is gone.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path

from airflow.sdk import dag, task

SLEEP_SECONDS = 30


def marker_base(context) -> Path:
    conf = context["dag_run"].conf or {}
    marker_dir = conf.get("marker_dir") or os.environ.get("AT_E2E_MARKER_DIR") or tempfile.gettempdir()
    safe_run_id = re.sub(r"[^A-Za-z0-9_.-]", "_", context["run_id"])
    Path(marker_dir).mkdir(parents=True, exist_ok=True)
    return Path(marker_dir) / safe_run_id


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_long_task():
    @task
    def long_sleep(**context) -> str:
        base = marker_base(context)
        base.with_suffix(".started").write_text(str(os.getpid()))
        print(f"long_sleep started pid={os.getpid()}, sleeping {SLEEP_SECONDS}s")
        for i in range(SLEEP_SECONDS):
            time.sleep(1)
            print(f"still sleeping {i + 1}/{SLEEP_SECONDS}", flush=True)
        base.with_suffix(".done").write_text("done")
        print("long_sleep finished")
        return "done"

    long_sleep()


e2e_long_task()
