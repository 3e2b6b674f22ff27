"""A TemporalExecutor that kills its own scheduler in the crash window of Airflow issue #58570.

Test support for tests/e2e/test_e2e_scheduler_crash.py, never shipped: that test starts a scheduler with
this class as its executor (and this folder on its PYTHONPATH). Right after the executor handed a task of
the DAG named by $AT_E2E_CRASH_AFTER_SUBMIT_DAG to Temporal, and before Airflow's scheduler processed the
QUEUED event that follows, it SIGKILLs the scheduler's process group.
"""
from __future__ import annotations

import os
import signal

from airflow_temporal.executors.temporal_executor import TemporalExecutor

CRASH_LOG_LINE = "killing this scheduler (SIGKILL) before it processes the QUEUED event"


class CrashAfterSubmitExecutor(TemporalExecutor):
    def _process_workloads(self, workloads) -> None:
        super()._process_workloads(workloads)
        dag_id = os.environ["AT_E2E_CRASH_AFTER_SUBMIT_DAG"]
        submitted = [w.ti.key for w in workloads if w.ti.dag_id == dag_id and w.ti.key in self.running]
        if submitted:
            self.log.warning("Submitted %s to Temporal; %s", submitted, CRASH_LOG_LINE)
            os.killpg(os.getpgrp(), signal.SIGKILL)
