"""Pooled runners parse a DAG file once per version and hand the parse to the task processes they fork
(`airflow_temporal.worker.dag_cache`). What a task runs must still be what the file on disk says at the
time of the attempt, as when every task process parses it (LocalExecutor): a stack of its own, with a DAG
folder of its own that the test edits between runs, in both modes.

The DAG's one task returns its file's VERSION and a helper module's LABEL (a module of the bundle that the
DAG file imports), and its own pid: each edit must show in the next run's XCom; the file's top-level code
notes the pid of every process that parses it, and no task process may be among them.
"""
from __future__ import annotations

import os
import textwrap
import uuid

import pytest

from e2e_checks import RUN_TIMEOUT
from airflow_temporal_testing.owned import describe, trigger_owned
from airflow_temporal_testing.stack import Stack, WorkerSpec

DAG_ID = "e2e_parse_reuse"
DAG_FILE = textwrap.dedent("""
    import os
    with open(os.path.join(os.path.dirname(__file__), "parses.log"), "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    from airflow.sdk import DAG, task
    from parse_reuse_helper import LABEL

    VERSION = {version!r}

    with DAG("e2e_parse_reuse", schedule=None, max_active_runs=1):
        @task
        def report():
            return {{"code": f"{{VERSION}}/{{LABEL}}", "pid": os.getpid()}}

        report()
""")


@pytest.fixture(scope="module")
def dags(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parse-reuse-dags")
    write(folder, version="v1", label="h1")
    return folder


def write(folder, *, version=None, label=None) -> None:
    """Writes the DAG file and/or the helper module, each with an mtime of its own, later than any before."""
    write.edits += 1
    files = {"parse_reuse_helper.py": label is not None and f"LABEL = {label!r}\n",
             "e2e_parse_reuse.py": version is not None and DAG_FILE.format(version=version)}
    for name, text in files.items():
        if text:
            path = folder / name
            path.write_text(text)
            mtime = path.stat().st_mtime_ns + write.edits * 1_000_000_000
            os.utime(path, ns=(mtime, mtime))


write.edits = 0


@pytest.fixture(scope="module")
def stack(dags):
    s = Stack(name=(os.environ.get("AT_E2E_STACK_NAME") or "e2e") + "-parse-reuse", ports="free", dags_folder=dags,
              workers=[WorkerSpec(queues="default", identity="parse-reuse")])
    s.start()
    try:
        yield s
    finally:
        s.stop()


def run_report(stack, mode: str) -> dict:
    airflow = stack.airflow
    run_id = f"parse_reuse_{mode}_{uuid.uuid4().hex[:8]}"
    if mode == "owned":
        triggered = trigger_owned(stack, DAG_ID, "--run-id", run_id)
        assert triggered.returncode == 0, describe(triggered)
    else:
        airflow.trigger(DAG_ID, run_id=run_id)
    assert airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT)["state"] == "success"
    return airflow.xcom(DAG_ID, run_id, "report")


def parsed_by(dags) -> set[int]:
    path = dags / "parses.log"
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


@pytest.mark.parametrize("mode", ["executor", "owned"])
def test_a_task_runs_what_its_dag_file_and_the_modules_it_imports_say_at_its_attempt(stack, dags, mode):
    airflow = stack.airflow
    airflow.wait_for_dag(DAG_ID)
    airflow.unpause(DAG_ID)
    write(dags, version="v1", label="h1")
    reports = [run_report(stack, mode), run_report(stack, mode)]
    write(dags, version="v2")
    reports.append(run_report(stack, mode))
    write(dags, label="h2")
    reports.append(run_report(stack, mode))

    assert [r["code"] for r in reports] == ["v1/h1", "v1/h1", "v2/h1", "v2/h2"]
    # No task process parsed the file: its pooled runner had, before forking it.
    assert not {r["pid"] for r in reports} & parsed_by(dags), (reports, parsed_by(dags))
