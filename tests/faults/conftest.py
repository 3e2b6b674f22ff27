"""Session fixtures of the fault suite: its own real stack (PostgreSQL, Temporal dev server, Airflow 3.3
with the TemporalExecutor, worker JARs started and stopped by each scenario), separate from the e2e
suite's, so that stopping Temporal or PostgreSQL disturbs nothing else. Scenarios run one after the
other on it; each runs both modes through its fault.

Knobs (environment):
  AT_FAULTS_STACK_NAME    stack name (default faults); sessions running at the same time need different names.
At the end the summary table (per scenario and mode: final states and tries, attempts lost, overlap,
detection time, runner processes left) is printed and written to <state dir>/fault-summary.md.
"""
from __future__ import annotations

import os

import pytest

from fault_scenario import WORKERS, summary_table
from airflow_temporal_testing.stack import Stack

ROWS: list[dict] = []
_STACK: Stack | None = None


@pytest.fixture(scope="session")
def stack():
    global _STACK
    s = Stack(name=os.environ.get("AT_FAULTS_STACK_NAME") or "faults", ports="free", workers=[WORKERS["a"]],
              # On a loaded CI machine (the e2e suite runs beside this one) the api-server can take longer than
              # the default 5 s to answer a runner's first call; an attempt that fails to start proves nothing.
              extra_env={"AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30"})
    _STACK = s
    s.start()
    try:
        yield s
    finally:
        (s.state_dir / "fault-summary.md").write_text(summary_table(ROWS) + "\n")
        s.stop()
        _STACK = None


@pytest.fixture(scope="session")
def rows() -> list[dict]:
    return ROWS


def pytest_terminal_summary(terminalreporter):
    if ROWS:
        terminalreporter.section("fault suite summary")
        terminalreporter.write_line(summary_table(ROWS))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _STACK is not None:
        names = ("scheduler", "worker-", "temporal", "api-server")
        report.sections.append(("component logs (tails)", _STACK.log_tails(lines=80, names=names)))
