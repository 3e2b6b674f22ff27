"""
TemporalExecutor: Airflow's scheduler decides, Temporal runs.

Each ``ExecuteTask`` workload is signalled-with-start to the workflow of its DagRun (one per
DagRun, id from dag_id and run_id alone); the worker JAR runs Airflow's own task runner as an
activity. ``sync`` asks each DagRun with attempts in flight for outcomes it has not reported yet,
so a heartbeat costs one query per active DagRun, whatever the number of tasks ever run.

Each attempt travels under the ``external_executor_id`` that Airflow's scheduler commits with the
QUEUED state before the workload reaches the executor (``pre_assigns_external_executor_id``). A
scheduler that dies after submitting and before recording the QUEUED event leaves a queued TI
carrying that id; its successor finds the attempt by it and adopts it instead of running it again.
The id also tells the queueings of one try apart (a reschedule sensor's pokes share a try number).

``ExecuteCallback`` and ``TestConnection`` workloads each run as the one activity of their own
``ExecutorWorkload`` workflow (id from Airflow's key), with Airflow's runner on a worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.executors.base_executor import BaseExecutor
from airflow.executors.workloads import ExecuteCallback, ExecuteTask, TestConnection
from airflow.observability.stats import Stats
from airflow.models.callback import CallbackKey
from airflow.models.connection_test import ConnectionTestKey
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
    WorkloadRun,
    workflow_id,
    workload_workflow_id,
)
from airflow_temporal.executors.workflow_client import DagRunWorkflowClient, WorkflowClosed, WorkloadRunning, is_transient

if TYPE_CHECKING:
    from airflow.cli.cli_config import GroupCommand
    from airflow.models.taskinstance import TaskInstance


@dataclass
class _ActiveRun:
    """A DagRun with attempts this executor reported as queued (or adopted) and has no outcome for yet."""

    #: TI key -> the external executor id of its latest queueing. A sensor in reschedule mode (and a task resumed
    #: after deferral) is queued again at the same try, under a new id, possibly before the outcome of its previous
    #: queueing arrives: that outcome is stale and must not be reported for the new one.
    keys: dict[TaskInstanceKey, str | None] = field(default_factory=dict)
    reported_seq: int = 0
    #: Adopted while Temporal could not say whether the workflow holds them (TI key -> external executor
    #: id): each sync asks again, until the workflow answers that it does or that it does not.
    unconfirmed: dict[TaskInstanceKey, str] = field(default_factory=dict)


# Names under Airflow's [metrics] statsd_prefix / OTel; each is documented in docs/operations.md. Stats here is
# the scheduler's own (airflow.observability.stats): BaseExecutor.__init__ points it at [metrics]. The deprecated
# airflow.stats is the Task SDK's copy, which nothing configures in the scheduler.
METRIC_PREFIX = "temporal_executor."


def _count(name: str, count: int) -> None:
    if count:
        Stats.incr(METRIC_PREFIX + name, count)


def _attempt_key(key: TaskInstanceKey) -> AttemptKey:
    return AttemptKey(task_id=key.task_id, map_index=key.map_index, try_number=key.try_number)


def holds(progress: DagRunProgress, key: TaskInstanceKey, external_executor_id: str, wid: str) -> bool:
    """Whether the DagRun's workflow holds this queueing of the attempt: waiting to start, running, or
    ended with an outcome the executor has not acknowledged."""
    if progress.external_executor_ids is None or external_executor_id == wid:
        # A worker older than external ids in progress, or a TI queued by an executor version that recorded
        # the workflow id as its external id: only the attempt key can tell.
        attempt = _attempt_key(key)
        return attempt in progress.running or any(o.attempt == attempt for o in progress.outcomes)
    return external_executor_id in progress.external_executor_ids


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
        external_executor_id=ti.external_executor_id,
    )


class TemporalExecutor(BaseExecutor):
    """Runs each task attempt as an activity of its DagRun's Temporal workflow."""

    supports_ad_hoc_ti_run: bool = True
    # The scheduler commits a UUID as the TI's external_executor_id together with QUEUED, before it hands
    # the workload over: the attempt's name in Temporal, so no crash window can make Airflow run it twice.
    pre_assigns_external_executor_id = True
    # Logs are written by the runner on the worker host; the api-server reads them from the shared
    # log folder or remote logging, not from a log server in the scheduler.
    serve_logs: bool = False
    # ExecuteCallback (a deadline alert's SyncCallback) and TestConnection workloads each run as the one activity
    # of an ExecutorWorkload workflow, with Airflow's own runner module, on a worker of their queue.
    supports_callbacks: bool = True
    supports_connection_test: bool = True
    # A team's executor (constructed with team_name) reads [temporal] through self.conf, Airflow's ExecutorConf
    # for the team: the team's own task queue / namespace, served by the team's workers.
    supports_multi_team: bool = True

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.settings = TemporalSettings.from_conf(self.conf)
        self.workflows = DagRunWorkflowClient(self.settings)
        self.active_runs: dict[str, _ActiveRun] = {}
        #: Callbacks and connection tests handed to Temporal (key -> workflow id) whose outcome is not reported.
        self.workloads_in_flight: dict[Any, str] = {}
        #: Callbacks reported RUNNING (their runner started), so that it is reported once.
        self._callbacks_started: set[Any] = set()

    def start(self) -> None:
        self.log.info("TemporalExecutor using %r", self.settings)
        self.workflows.start()

    # -- submitting --

    def _process_workloads(self, workloads: Sequence[Any]) -> None:
        tasks = [w for w in workloads if isinstance(w, ExecuteTask)]
        others = [w for w in workloads if isinstance(w, ExecuteCallback | TestConnection)]
        for unknown in workloads:
            if not isinstance(unknown, ExecuteTask | ExecuteCallback | TestConnection):
                raise ValueError(f"TemporalExecutor runs ExecuteTask, ExecuteCallback and TestConnection workloads, "
                                 f"not {type(unknown).__name__}")
        if others:
            self._start_workloads(others)
        if tasks:
            self._submit_tasks(tasks)

    def _submit_tasks(self, tasks: list[ExecuteTask]) -> None:
        for w in tasks:
            if not w.ti.external_executor_id:
                # Not queued by a scheduler (dag.test): named here, once, so a retried submission keeps the
                # name; the QUEUED event below records it.
                w.ti.external_executor_id = str(uuid.uuid4())
        submissions = [submission_for(w, self.settings.default_queue) for w in tasks]
        with Stats.timer(METRIC_PREFIX + "submit_duration"):
            results = self.workflows.submit(submissions)
        accepted = sum(1 for error in results if error is None)
        transient = sum(1 for error in results if error is not None and is_transient(error))
        _count("tasks_submitted", accepted)
        _count("submit_retries", transient)
        _count("submit_refused", len(results) - accepted - transient)
        for workload, error in zip(tasks, results):
            key = workload.ti.key
            wid = workflow_id(key.dag_id, key.run_id)
            if error is None:
                self.queued_tasks.pop(key, None)
                self.running.add(key)
                self.active_runs.setdefault(wid, _ActiveRun()).keys[key] = workload.ti.external_executor_id
                # Airflow writes this into task_instance.external_executor_id: the id it already holds.
                self.event_buffer[key] = (TaskInstanceState.QUEUED, workload.ti.external_executor_id)
            elif is_transient(error):
                # Left in queued_tasks: the next heartbeat submits it again; nothing is lost.
                self.log.error("Could not submit %s, will retry: %s", key, error)
            else:
                self.queued_tasks.pop(key, None)
                self.log.error("Temporal refused %s (%s): %s", key, type(error).__name__, error)
                self.fail(key, f"Temporal refused the submission: {error}")

    def _start_workloads(self, workloads: list[ExecuteCallback | TestConnection]) -> None:
        runs = {workload_workflow_id(w): WorkloadRun(CONTRACT_VERSION, self._queue_of(w), w.model_dump(mode="json"))
                for w in workloads}
        results = self.workflows.start_workloads(runs)
        _count("workloads_submitted", sum(1 for error in results if error is None))
        for workload, (wid, error) in zip(workloads, zip(runs, results)):
            queued = self.queued_callbacks if isinstance(workload, ExecuteCallback) else self.queued_connection_tests
            if error is None:
                queued.pop(workload.key, None)
                self.running.add(workload.key)
                self.workloads_in_flight[workload.key] = wid
                self.log.info("Handed %s to Temporal as workflow %s", workload.display_name, wid)
            elif is_transient(error):
                self.log.error("Could not hand %s to Temporal, will retry: %s", workload.display_name, error)
            else:
                queued.pop(workload.key, None)
                self.log.error("Temporal refused %s (%s): %s", workload.display_name, type(error).__name__, error)
                self.fail(workload.key, f"Temporal refused the workload: {error}")

    def _queue_of(self, workload: ExecuteCallback | TestConnection) -> str | None:
        # An ExecuteCallback names no queue: it runs on the default queue's workers.
        queue = getattr(workload, "queue", None)
        return None if queue in (None, self.settings.default_queue) else queue

    # -- learning outcomes --

    def sync(self) -> None:
        Stats.gauge(METRIC_PREFIX + "active_runs", len(self.active_runs))
        Stats.gauge(METRIC_PREFIX + "workloads_in_flight", len(self.workloads_in_flight))
        if not self.workloads_in_flight and not self.active_runs:
            return
        with Stats.timer(METRIC_PREFIX + "sync_duration"):
            self._sync()

    def _sync(self) -> None:
        if self.workloads_in_flight:
            self._sync_workloads()
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
                Stats.incr(METRIC_PREFIX + "sync_errors")
                continue
            self._report(run, result)
            self._confirm_adopted(wid, run, result)
            if result.outcomes:
                acknowledgements[wid] = run.reported_seq
        if acknowledgements:
            for error in self.workflows.acknowledge(acknowledgements):
                if error is not None:
                    # Harmless: the next query returns the same outcomes and the next ack covers them.
                    self.log.warning("Could not acknowledge outcomes: %s", error)
        for wid in [wid for wid, run in self.active_runs.items() if not run.keys]:
            del self.active_runs[wid]

    def _sync_workloads(self) -> None:
        """Report callbacks and connection tests as LocalExecutor does: a callback RUNNING once its runner started,
        then SUCCESS or FAILED (the reason becomes the callback's output); a connection test SUCCESS or FAILED once
        its runner is gone (its result is what the runner wrote through the Execution API)."""
        results = self.workflows.workload_outcomes(self.workloads_in_flight.values())
        for key, wid in list(self.workloads_in_flight.items()):
            result = results[wid]
            if isinstance(result, WorkloadRunning):
                if result.started and isinstance(key, CallbackKey) and key not in self._callbacks_started:
                    self._callbacks_started.add(key)
                    self.running_state(key)
                continue
            if isinstance(result, BaseException) and not isinstance(result, WorkflowClosed):
                self.log.warning("Could not read the outcome of %s, will retry: %s", wid, result)
                continue
            del self.workloads_in_flight[key]
            self._callbacks_started.discard(key)
            if isinstance(result, WorkflowClosed):
                self.log.error("%s; reporting %s failed", result, wid)
                self.fail(key, str(result))
            elif result.state == "success":
                self.success(key)
            else:
                self.log.error("%s failed outside Airflow's code (exit code %s): %s%s", wid, result.exit_code,
                               result.reason, f"\n--- last runner output ---\n{result.output_tail}"
                               if result.output_tail else "")
                self.fail(key, result.reason or f"the runner exited with code {result.exit_code}")

    def fail_connection_test(self, key: ConnectionTestKey) -> None:
        """Airflow's reaper failed a connection test that outlived its timeout: stop asking about it."""
        super().fail_connection_test(key)
        self.workloads_in_flight.pop(key, None)

    def _report(self, run: _ActiveRun, progress: DagRunProgress) -> None:
        by_attempt = {_attempt_key(k): k for k in run.keys}
        for outcome in progress.outcomes:
            run.reported_seq = max(run.reported_seq, outcome.seq)
            key = by_attempt.get(outcome.attempt)
            if key is None:
                continue  # revoked, or reported before a scheduler restart
            queued_as = run.keys[key]
            if outcome.external_executor_id and queued_as and outcome.external_executor_id != queued_as:
                # The end of an earlier queueing of this try (a reschedule sensor's previous poke): the TI was
                # queued again since, and that queueing's own outcome follows.
                self.log.info("Outcome of %s queued as %s is stale: queued again as %s",
                              key, outcome.external_executor_id, queued_as)
                continue
            del run.keys[key]
            self._report_outcome(key, outcome)

    def _confirm_adopted(self, wid: str, run: _ActiveRun, progress: DagRunProgress) -> None:
        """Settle the TIs adopted without an answer from Temporal, now that the workflow answered."""
        for key, external_id in list(run.unconfirmed.items()):
            del run.unconfirmed[key]
            if key not in run.keys or holds(progress, key, external_id, wid):
                continue
            del run.keys[key]
            reason = (f"workflow {wid} does not hold the attempt queued as {external_id}: it never reached "
                      "Temporal before the scheduler that queued it stopped")
            self.log.error("Adopted %s is lost: %s; reporting it failed", key, reason)
            Stats.incr(METRIC_PREFIX + "adopted_lost")
            self.fail(key, reason)

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
            run.keys.pop(key, None)
            run.unconfirmed.pop(key, None)
        try:
            error = self.workflows.cancel(
                wid, TaskCancellation(CONTRACT_VERSION, _attempt_key(key), "revoked by Airflow's scheduler")
            )
        except Exception as e:  # revoke_task must never raise
            error = e
        if error is not None:
            self.log.warning("Could not cancel %s in Temporal: %s", key, error)

    def try_adopt_task_instances(self, tis: Sequence[TaskInstance]) -> Sequence[TaskInstance]:
        """Adopt every TI whose attempt its DagRun's workflow holds, or may hold.

        Only a positive answer that the attempt is gone returns a TI for Airflow to reset (and run again):
        no such workflow, a closed workflow without it, or an open one that does not hold its external id.
        When Temporal does not answer, the attempt may well be running: the TI is adopted and later syncs
        ask again (``_confirm_adopted``).
        """
        ours = [ti for ti in tis if ti.external_executor_id]
        not_adopted = [ti for ti in tis if not ti.external_executor_id]
        progress = self.workflows.progress({workflow_id(ti.dag_id, ti.run_id): 0 for ti in ours})
        unconfirmed = 0
        for ti in ours:
            wid = workflow_id(ti.dag_id, ti.run_id)
            answer = progress[wid]
            if isinstance(answer, WorkflowClosed):
                answer = answer.final_progress
            if answer is None or (isinstance(answer, DagRunProgress)
                                  and not holds(answer, ti.key, ti.external_executor_id, wid)):
                not_adopted.append(ti)
                continue
            run = self.active_runs.setdefault(wid, _ActiveRun())
            if isinstance(answer, BaseException):
                self.log.warning("Cannot ask %s about %s now (%s); adopting it and asking again", wid, ti.key, answer)
                run.unconfirmed[ti.key] = ti.external_executor_id
                unconfirmed += 1
            self.running.add(ti.key)
            run.keys[ti.key] = ti.external_executor_id
        _count("adopted", len(tis) - len(not_adopted))
        _count("adopted_unconfirmed", unconfirmed)
        _count("not_adopted", len(ours) - (len(tis) - len(not_adopted)))
        if len(not_adopted) < len(tis):
            self.log.info("Adopted %d task instances from their DagRun workflows (%d not yet confirmed by Temporal)",
                          len(tis) - len(not_adopted), unconfirmed)
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
        from airflow_temporal.cli.temporal_commands import get_temporal_cli_commands

        return get_temporal_cli_commands()
