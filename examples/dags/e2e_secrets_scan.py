"""End-to-end test DAG of the secrets scan (tests/e2e/test_e2e_secrets.py): tasks that read a connection
and a variable and print them, the way DAG authors leak secrets by accident.

`read_secrets` prints the connection `e2e_scan_conn`'s password and the variable `e2e_scan_secret`, runs
`env` in a child process, writes `<marker>.read_secrets.json` (its pid and its `os.environ`) and waits
for `<marker>.release` (at most 5 minutes), so the test can read the environment of the task's processes
while they run. `fail_with_secret` then fails with the password in its exception. The marker base is
`<AT_E2E_MARKER_DIR>/<safe run id>`.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from airflow.sdk import BaseHook, Variable, dag, task

RELEASE_TIMEOUT_SECONDS = 300


def marker_base(context) -> Path:
    marker_dir = os.environ.get("AT_E2E_MARKER_DIR") or tempfile.gettempdir()
    Path(marker_dir).mkdir(parents=True, exist_ok=True)
    return Path(marker_dir) / re.sub(r"[^A-Za-z0-9_.-]", "_", context["run_id"])


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_secrets_scan():
    @task
    def read_secrets(**context) -> None:
        password = BaseHook.get_connection("e2e_scan_conn").password
        value = Variable.get("e2e_scan_secret")
        print(f"connection password: {password}")
        print(f"variable value: {value}")
        print(f"on stderr: {password} {value}", file=sys.stderr)
        subprocess.run(["env"], check=True)  # what a BashOperator's command would see
        base = marker_base(context)
        marker = base.with_suffix(".read_secrets.json")
        marker.write_text(json.dumps({"pid": os.getpid(), "environ": dict(os.environ)}))
        release = base.with_suffix(".release")
        deadline = time.monotonic() + RELEASE_TIMEOUT_SECONDS
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.5)

    @task
    def fail_with_secret() -> None:
        password = BaseHook.get_connection("e2e_scan_conn").password
        raise RuntimeError(f"cannot log in with password {password}")

    read_secrets() >> fail_with_secret()


e2e_secrets_scan()
