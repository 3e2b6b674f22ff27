"""Session fixtures of the fidelity corpus (tests/corpus): its own real stack (PostgreSQL, Temporal dev
server, Airflow 3.3 with `[core] executor = TemporalExecutor,LocalExecutor`, one worker JAR), apart from
the e2e suite's, because it loads Airflow's ~100 example DAGs and runs ~300 DagRuns at once.

The stack differs from the e2e one in what the corpus needs:
- `[core] load_examples = True`: Airflow's own example DAGs and example plugins, as a user enables them;
- the cluster policy of airflow_local_settings.py here: runs whose id starts with `corpus_local__` run
  on the LocalExecutor (see test_corpus.py);
- `[scheduler] use_job_schedule = False`: unpausing the example DAGs creates no scheduled or
  asset-triggered runs beside the corpus's own (manual and owned runs are unaffected);
- each DAG file is parsed once (`min_file_process_interval` an hour): re-parsing ~60 files every 10 s
  would cost a core;
- `[core] parallelism = 8` per executor: the scheduler hands out 8 tasks at a time to each executor;
- a larger DB connection pool (see below).

Knobs (environment):
  AT_CORPUS_STACK_NAME  stack name (default corpus); sessions running at the same time need different names.
  AT_CORPUS_DAGS        comma-separated DAG ids: run only those of the corpus (to try a few quickly); CI runs all.
The per-DAG table is printed at the end and written to <state dir>/corpus-table.md.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_temporal_testing.stack import TEMPORAL_EXECUTOR, Stack, WorkerSpec

HERE = Path(__file__).resolve().parent
REPORT: list[str] = []
_STACK: Stack | None = None


def corpus_stack(name: str) -> Stack:
    return Stack(
        name=name, ports="free", executor=f"{TEMPORAL_EXECUTOR},LocalExecutor", workers=[WorkerSpec()],
        local_settings=HERE / "airflow_local_settings.py",
        extra_env={"AIRFLOW__CORE__LOAD_EXAMPLES": "True",
                   "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                   "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
                   "AIRFLOW__CORE__PARALLELISM": "8",
                   # The single api-server worker serves every task's execution-API calls beside the corpus's
                   # REST calls: with the default pool (5 + 10 overflow) requests waited 30 s for a connection
                   # and failed.
                   "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "20",
                   "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "40",
                   # As in the fault suite: on the loaded CI machine the api-server can take longer than
                   # the default 5 s to answer a runner's first call.
                   "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30"})


@pytest.fixture(scope="session")
def stack():
    global _STACK
    s = corpus_stack(os.environ.get("AT_CORPUS_STACK_NAME") or "corpus")
    _STACK = s
    s.start()
    try:
        yield s
    finally:
        if REPORT:
            (s.state_dir / "corpus-table.md").write_text("\n".join(REPORT) + "\n")
        s.stop()
        _STACK = None


@pytest.fixture(scope="session")
def report() -> list[str]:
    return REPORT


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("fidelity corpus")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _STACK is not None:
        names = ("scheduler", "worker-", "temporal", "api-server", "dag-processor")
        report.sections.append(("component logs (tails)", _STACK.log_tails(lines=80, names=names)))
