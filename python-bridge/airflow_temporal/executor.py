"""
TemporalExecutor: Airflow's scheduler decides, Temporal runs.

Each ``ExecuteTask`` workload is signalled-with-start to the workflow of its DagRun (one per
DagRun, id from dag_id and run_id alone); the worker JAR runs Airflow's own task runner as an
activity. ``sync`` asks each DagRun with attempts in flight for outcomes it has not reported yet,
so a heartbeat costs one query per active DagRun, whatever the number of tasks ever run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.executors.base_executor import BaseExecutor
from airflow.executors.workloads import ExecuteTask
from airflow.models.taskinstancekey import TaskInstanceKey
from airflow.utils.state import TaskInstanceState

from airflow_temporal.config import TemporalSettings
from airflow_temporal.wire import (
    CONTRACT_VERSION,
    AttemptKey,
    DagRunProgress,
    TaskCancellation,
    TaskOutcome,
    TaskSubmission,
    workflow_id,
)
from airflow_temporal.workflow_client import DagRunWorkflowClient, WorkflowClosed, is_transient

if TYPE_CHECKING:
    from airflow.cli.cli_config import GroupCommand
    from airflow.models.taskinstance import TaskInstance


@dataclass
class _ActiveRun:
    """A DagRun with attempts this executor reported as queued and has no outcome for yet."""

    keys: set[TaskInstanceKey] = field(default_factory=set)
    reported_seq: int = 0


def _attempt_key(key: TaskInstanceKey) -> AttemptKey:
    return AttemptKey(task_id=key.task_id, map_index=key.map_index, try_number=key.try_number)


def submission_for(workload: ExecuteTask, default_queue: str) -> TaskSubmission:
    """The wire form of one workload; the workload itself travels unchanged to the runner."""
    ti = workload.ti
    return TaskSubmission(
        contract_version=CONTRACT_VERSION,
        dag_id=ti.dag_id,
        run_id=ti.run_id,
        attempt=AttemptKey(task_id=ti.task_id, map_index=ti.map_index, try_number=ti.try_number),
        ti_id=str(ti.id),
        queue=None if ti.queue == default_queue else ti.queue,
        priority_weight=ti.priority_weight,
        submitted_at=datetime.now(timezone.utc),
        workload=workload.model_dump(mode="json"),
    )


class TemporalExecutor(BaseExecutor):
    """Runs each task attempt as an activity of its DagRun's Temporal workflow."""

    supports_ad_hoc_ti_run: bool = True
    # Logs are written by the runner on the worker host; the api-server reads them from the shared
    # log folder or remote logging, not from a log server in the scheduler.
    serve_logs: bool = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.settings = TemporalSettings.from_conf(self.conf)
        self.workflows = DagRunWorkflowClient(self.settings)
        self.active_runs: dict[str, _ActiveRun] = {}

    def start(self) -> None:
        self.log.info("TemporalExecutor using %r", self.settings)
        self.workflows.start()

    # -- submitting --

    def _process_workloads(self, workloads: Sequence[Any]) -> None:
        tasks = [w for w in workloads if isinstance(w, ExecuteTask)]
        for other in workloads:
            if not isinstance(other, ExecuteTask):
                raise ValueError(f"TemporalExecutor runs ExecuteTask workloads only, not {type(other).__name__}")
        submissions = [submission_for(w, self.settings.default_queue) for w in tasks]
        results = self.workflows.submit(submissions)
        for workload, error in zip(tasks, results):
            key = workload.ti.key
            wid = workflow_id(key.dag_id, key.run_id)
            if error is None:
                self.queued_tasks.pop(key, None)
                self.running.add(key)
                self.active_runs.setdefault(wid, _ActiveRun()).keys.add(key)
                # The workflow id becomes task_instance.external_executor_id: adoption's evidence.
                self.event_buffer[key] = (TaskInstanceState.QUEUED, wid)
            elif is_transient(error):
                # Left in queued_tasks: the next heartbeat submits it again; nothing is lost.
                self.log.error("Could not submit %s, will retry: %s", key, error)
            else:
                self.queued_tasks.pop(key, None)
                self.log.error("Temporal refused %s (%s): %s", key, type(error).__name__, error)
                self.fail(key, f"Temporal refused the submission: {error}")

    # -- learning outcomes --

    def sync(self) -> None:
        if not self.active_runs:
            return
        cursors = {wid: run.reported_seq for wid, run in self.active_runs.items()}
        acknowledgements: dict[str, int] = {}
        for wid, result in self.workflows.progress(cursors).items():
            run = self.active_runs[wid]
            if isinstance(result, WorkflowClosed):
                self._report_closed(wid, run, result)
                continue
            if isinstance(result, BaseException):
                self.log.warning("Could not read progress of %s, will retry: %s", wid, result)
                continue
            self._report(run, result)
            if result.outcomes:
                acknowledgements[wid] = run.reported_seq
        if acknowledgements:
            for error in self.workflows.acknowledge(acknowledgements):
                if error is not None:
                    # Harmless: the next query returns the same outcomes and the next ack covers them.
                    self.log.warning("Could not acknowledge outcomes: %s", error)
        for wid in [wid for wid, run in self.active_runs.items() if not run.keys]:
            del self.active_runs[wid]

    def _report(self, run: _ActiveRun, progress: DagRunProgress) -> None:
        by_attempt = {_attempt_key(k): k for k in run.keys}
        for outcome in progress.outcomes:
            run.reported_seq = max(run.reported_seq, outcome.seq)
            key = by_attempt.get(outcome.attempt)
            if key is None or key not in run.keys:
                continue  # revoked, or reported before a scheduler restart
            run.keys.discard(key)
            self._report_outcome(key, outcome)

    def _report_outcome(self, key: TaskInstanceKey, outcome: TaskOutcome) -> None:
        if outcome.state == "success":
            self.success(key)
            return
        self.log.error(
            "Attempt %s failed outside the task (exit code %s): %s%s",
            key, outcome.exit_code, outcome.reason,
            f"\n--- last runner output ---\n{outcome.output_tail}" if outcome.output_tail else "",
        )
        self.fail(key, outcome.reason)

    def _report_closed(self, wid: str, run: _ActiveRun, closed: WorkflowClosed) -> None:
        if closed.final_progress is not None:
            self._report(run, closed.final_progress)
        for key in list(run.keys):
            self.log.error("%s ended without an outcome for %s; reporting it failed", closed, key)
            self.fail(key, str(closed))
        run.keys.clear()

    # -- taking back, adopting, stopping --

    def revoke_task(self, *, ti: TaskInstance) -> None:
        key = ti.key
        self.queued_tasks.pop(key, None)
        self.running.discard(key)
        wid = workflow_id(key.dag_id, key.run_id)
        run = self.active_runs.get(wid)
        if run is not None:
            run.keys.discard(key)
        try:
            error = self.workflows.cancel(
                wid, TaskCancellation(CONTRACT_VERSION, _attempt_key(key), "revoked by Airflow's scheduler")
            )
        except Exception as e:  # revoke_task must never raise
            error = e
        if error is not None:
            self.log.warning("Could not cancel %s in Temporal: %s", key, error)

    def try_adopt_task_instances(self, tis: Sequence[TaskInstance]) -> Sequence[TaskInstance]:
        """Adopt the TIs whose attempt the DagRun's workflow is running or has an outcome for."""
        ours = [ti for ti in tis if ti.external_executor_id]
        not_adopted = [ti for ti in tis if not ti.external_executor_id]
        progress = self.workflows.progress({workflow_id(ti.dag_id, ti.run_id): 0 for ti in ours})
        for ti in ours:
            wid = workflow_id(ti.dag_id, ti.run_id)
            result = progress[wid]
            if isinstance(result, WorkflowClosed):
                result = result.final_progress
            known = set()
            if isinstance(result, DagRunProgress):
                known = set(result.running) | {o.attempt for o in result.outcomes}
            if _attempt_key(ti.key) in known:
                self.running.add(ti.key)
                self.active_runs.setdefault(wid, _ActiveRun()).keys.add(ti.key)
            else:
                not_adopted.append(ti)
        if len(not_adopted) < len(tis):
            self.log.info("Adopted %d task instances from their DagRun workflows", len(tis) - len(not_adopted))
        return not_adopted

    def end(self) -> None:
        """Report what already finished; attempts still running go on in Temporal and are adopted later."""
        try:
            self.sync()
        finally:
            self.workflows.stop()

    def terminate(self) -> None:
        self.workflows.stop()

    @staticmethod
    def get_cli_commands() -> list[GroupCommand]:
        from airflow_temporal.cli import get_temporal_cli_commands

        return get_temporal_cli_commands()
