"""Parse once per DAG version (``airflow_temporal.worker.dag_cache``), for real: a process that installs it
as the runner server does, prepares attempts as a pooled runner does before Airflow's supervisor forks,
and forks "task processes" that make the ``BundleDagBag(...)`` call of Airflow's ``task_runner.parse``.

Every DAG file here appends the pid of the process that runs its top-level code to a file: that file
says which process parsed it, and how often.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

PROBE = textwrap.dedent("""
    import json, os, sys
    from pathlib import Path
    from types import SimpleNamespace

    import structlog
    from airflow_temporal.worker import dag_cache
    dag_cache.install()
    # As Airflow configures the runner: loggers bound on first use (here, by the runner's parse).
    structlog.configure(cache_logger_on_first_use=True)
    from airflow.dag_processing import dagbag
    from airflow.sdk.definitions._internal.dag_parsing_context import _airflow_parsing_context_manager

    bundle = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    results = []
    for line in sys.stdin:
        step = json.loads(line)
        if step.get("write"):
            Path(bundle, step["write"]).write_text(step["text"])
            os.utime(Path(bundle, step["write"]), ns=(step["mtime_ns"], step["mtime_ns"]))
            continue
        dag_id, task_id = step["dag_id"], step["task_id"]
        # What the wrapped supervise_task does before Airflow's supervisor forks the task process.
        dag_cache.prepare(dag_id, task_id, SimpleNamespace(name="dags-folder", version=None), step["file"])
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the task process: task_runner.parse's call, under the context Airflow sets
            os.close(read)
            # As Airflow's task runner does: the task log has a logging configuration of its own.
            task_log = open(os.path.join(os.environ["TASK_LOGS"], f"{os.getpid()}.log"), "w")
            structlog.configure(processors=[structlog.processors.JSONRenderer()],
                                logger_factory=structlog.PrintLoggerFactory(file=task_log))
            with _airflow_parsing_context_manager(dag_id=dag_id, task_id=task_id):
                bag = dagbag.BundleDagBag(dag_folder=os.path.join(bundle, step["file"]), safe_mode=False,
                                          load_op_links=False, bundle_path=Path(bundle), bundle_name="dags-folder")
            dag = bag.dags.get(dag_id)
            report = {"pid": os.getpid(), "tasks": sorted(dag.task_dict) if dag else None,
                      "bundle_on_path": bundle in sys.path, "class": type(bag).__name__}
            task_log.close()
            report["task_log"] = Path(task_log.name).read_text()
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as r:
            report = json.loads(r.read())
        os.waitpid(pid, 0)
        results.append(report)
    print(json.dumps(results))
""")

DAG = textwrap.dedent("""
    import os
    with open(os.environ["PARSES"], "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    {extra}
    from airflow.sdk import DAG, task
    with DAG("{dag_id}", schedule=None):
        for name in {tasks}:
            task(task_id=name)(lambda: None)()
""")


def dag_file(dag_id: str, tasks: list[str], extra: str = "") -> str:
    return DAG.format(dag_id=dag_id, tasks=repr(tasks), extra=extra)


def run_probe(tmp_path: Path, steps: list[dict], **env) -> tuple[list[dict], list[int], int]:
    """Runs ``steps`` in one pooled-runner-like process; returns each attempt's report, the pids that
    parsed a DAG file (in order), and the probe's pid is not known: parses in a reported task pid are
    the task process's own."""
    dags = tmp_path / "dags"
    dags.mkdir(exist_ok=True)
    parses = tmp_path / "parses"
    parses.touch()
    task_logs = tmp_path / "task-logs"
    task_logs.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        input="".join(json.dumps(s) + "\n" for s in steps), capture_output=True, text=True, timeout=120,
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
             "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PARSES": str(parses), "TASK_LOGS": str(task_logs), **env},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    parsed_by = [int(p) for p in parses.read_text().split()]
    return results, parsed_by, len(parsed_by)


def write(name: str, text: str, mtime_ns: int | None = None) -> dict:
    return {"write": name, "text": text, "mtime_ns": mtime_ns or time.time_ns()}


def attempt(dag_id: str, task_id: str, file: str) -> dict:
    return {"dag_id": dag_id, "task_id": task_id, "file": file}


def task_pids(results: list[dict]) -> set[int]:
    return {r["pid"] for r in results}


def test_attempts_of_one_dag_version_parse_the_file_once_and_every_task_process_gets_the_dag(tmp_path):
    tasks = [f"t{i}" for i in range(5)]
    results, parsed_by, count = run_probe(tmp_path, [
        write("fan.py", dag_file("fan", tasks)),
        *[attempt("fan", t, "fan.py") for t in tasks],
    ])
    assert count == 1
    assert not set(parsed_by) & task_pids(results), "the runner parsed, not a task process"
    assert all(r["tasks"] == tasks for r in results)
    # What BundleDagBag does besides parsing, Airflow's class name for the bag's logger, and its line
    # in the task log, through the task process's own logging configuration.
    assert all(r["bundle_on_path"] and r["class"] == "BundleDagBag" for r in results)
    assert all("Filling up the DagBag from" in r["task_log"] for r in results)


def test_a_changed_dag_file_is_parsed_again(tmp_path):
    results, _, count = run_probe(tmp_path, [
        write("d.py", dag_file("d", ["a"]), mtime_ns=1_000_000_000),
        attempt("d", "a", "d.py"),
        write("d.py", dag_file("d", ["a", "b"]), mtime_ns=2_000_000_000),
        attempt("d", "b", "d.py"),
    ])
    assert count == 2
    assert results[1]["tasks"] == ["a", "b"]


def test_a_changed_bundle_module_that_the_dag_imports_is_imported_and_parsed_again(tmp_path):
    uses_helper = dag_file("h", [], extra="from helper import TASKS").replace("in []", "in TASKS")
    results, _, count = run_probe(tmp_path, [
        write("helper.py", "TASKS = ['one']\n", mtime_ns=1_000_000_000),
        write("h.py", uses_helper),
        attempt("h", "one", "h.py"),
        write("helper.py", "TASKS = ['one', 'two']\n", mtime_ns=2_000_000_000),
        attempt("h", "two", "h.py"),
    ])
    assert count == 2
    assert results[1]["tasks"] == ["one", "two"]


def test_a_dag_file_that_reads_the_parsing_context_is_reused_for_the_same_task_only(tmp_path):
    reads_context = dag_file("c", ["x", "y"], extra="from airflow.sdk import get_parsing_context\n"
                                                    "CURRENT = get_parsing_context().task_id")
    _, _, count = run_probe(tmp_path, [
        write("c.py", reads_context),
        attempt("c", "x", "c.py"),
        attempt("c", "x", "c.py"),
        attempt("c", "y", "c.py"),
    ])
    assert count == 2


def test_a_dag_file_that_calls_the_execution_api_at_top_level_is_parsed_by_each_task_process(tmp_path):
    calls_api = dag_file("v", ["a"], extra=textwrap.dedent("""
        from airflow.sdk import Variable
        try:
            Variable.get("some_variable")
        except Exception:
            pass
    """))
    results, parsed_by, _ = run_probe(tmp_path, [
        write("v.py", calls_api),
        attempt("v", "a", "v.py"),
        attempt("v", "a", "v.py"),
    ])
    assert task_pids(results) <= set(parsed_by), "each task process parsed its DAG itself"
    assert all(r["tasks"] == ["a"] for r in results)


def test_a_dag_file_with_an_import_error_is_parsed_by_each_task_process(tmp_path):
    results, parsed_by, _ = run_probe(tmp_path, [
        write("e.py", dag_file("e", ["a"]) + "\nraise ImportError('broken')\n"),
        attempt("e", "a", "e.py"),
        attempt("e", "a", "e.py"),
    ])
    assert task_pids(results) <= set(parsed_by)
    assert all(r["tasks"] is None for r in results)


def test_a_parse_is_not_reused_past_the_dag_processors_file_interval(tmp_path):
    _, _, count = run_probe(tmp_path, [
        write("d.py", dag_file("d", ["a"])),
        attempt("d", "a", "d.py"),
        attempt("d", "a", "d.py"),
    ], AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="0")
    assert count == 2


@pytest.mark.parametrize("setting, parses", [("True", 1), ("False", 0)])
def test_the_runner_server_parses_once_only_when_reuse_dag_parses_is_on(tmp_path, setting, parses):
    check = textwrap.dedent("""
        from airflow_temporal.worker import runner_server
        runner_server.preload(runner_server.PRELOADED_MODULES)
        from airflow.dag_processing import dagbag
        print(int(getattr(dagbag.BundleDagBag, "_airflow_temporal_parse_once", False)))
    """)
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AIRFLOW_HOME": str(tmp_path),
                               "AIRFLOW__TEMPORAL__REUSE_DAG_PARSES": setting})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-1] == str(parses)
