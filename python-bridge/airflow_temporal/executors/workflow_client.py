"""
The synchronous handle on DagRun workflows used by the scheduler and the ``airflow temporal`` CLI.

Airflow calls executors from its scheduler loop, synchronously; Temporal's Python client is
asyncio. One daemon thread runs an event loop with one client, and every batch of calls made
from a heartbeat runs concurrently on it, so a heartbeat costs one round trip, not one per run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import (
    Client,
    RPCError,
    TLSConfig,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryRejectedError,
)
from temporalio.common import QueryRejectCondition, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCStatusCode

from airflow_temporal.codec import data_converter
from airflow_temporal.config import TemporalSettings
from airflow_temporal.wire import (
    OWNED_WORKFLOW_TYPE,
    QUERY_PROGRESS,
    QUERY_VIEW,
    SIGNAL_ACKNOWLEDGE_OUTCOMES,
    SIGNAL_CANCEL_TASK,
    SIGNAL_SUBMIT_TASK,
    WORKFLOW_TYPE,
    WORKLOAD_WORKFLOW_TYPE,
    CONTRACT_VERSION,
    DagRunProgress,
    DagRunWorkflowInput,
    OwnedDagRunProgress,
    OwnedDagRunRequest,
    RunView,
    TaskCancellation,
    TaskSubmission,
    WorkloadOutcome,
    WorkloadRun,
    workflow_id,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# The failure type of an OwnedDagRun workflow that refused its request (Java: DagRunSyncActivities.REJECTED).
REJECTED_FAILURE_TYPE = "DagRunRejected"

#: RPC failures after which the same call may succeed later (Temporal down, overloaded, slow).
TRANSIENT_CODES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED,
     RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN, RPCStatusCode.INTERNAL}
)


def is_workflow_task_retrying(error: BaseException) -> bool:
    """Temporal refuses queries while a workflow's last workflow task failed; the server retries that task."""
    return (isinstance(error, RPCError) and error.status == RPCStatusCode.FAILED_PRECONDITION
            and "Workflow Task in failed state" in error.message)


class TemporalUnavailable(RuntimeError):
    """Temporal cannot be reached now; the call may be retried."""


class WorkflowClosed(RuntimeError):
    """The DagRun's workflow is no longer running; carries its final progress (None if unknown)."""

    def __init__(self, message: str, final_progress: DagRunProgress | None):
        super().__init__(message)
        self.final_progress = final_progress


@dataclass(frozen=True)
class WorkloadRunning:
    """A callback's or connection test's workflow is open; ``started``: a worker runs its runner."""

    started: bool


@dataclass(frozen=True)
class PendingActivity:
    """One activity the workflow waits on, as Temporal describes it (DescribeWorkflowExecution, not history).

    ``runner``: what its runner runs (``dag/run/task[3] try 2``) with its ``host`` and ``pid``, from its
    last heartbeat; None before the first one (not picked up yet) or from workers that predate them.
    """

    activity_id: str
    activity_type: str
    state: str  # scheduled, started, cancel_requested, paused, ...
    attempt: int
    maximum_attempts: int
    worker_identity: str
    runner: str | None
    host: str | None
    pid: int | None
    scheduled_at: datetime | None
    last_started_at: datetime | None
    last_heartbeat_at: datetime | None
    next_attempt_at: datetime | None
    last_failure: str | None


@dataclass(frozen=True)
class LiveRun:
    """A DagRun's workflow as the Airflow UI's Temporal tab shows it.

    ``view``: the workflow's answer to its ``view`` query, None when it gave none (``view_error`` says why:
    no worker to answer, a worker that predates the query, ...).
    """

    workflow_id: str
    temporal_run_id: str
    workflow_type: str
    status: str  # RUNNING, COMPLETED, FAILED, TERMINATED, CONTINUED_AS_NEW, ...
    started_at: datetime | None
    closed_at: datetime | None
    view: RunView | None
    view_error: str | None
    pending: list[PendingActivity]


class RunAlreadyStarted(RuntimeError):
    """A run's workflow id is taken: that run was started before (and may have ended since)."""

    def __init__(self, dag_id: str, run_id: str, workflow: str):
        super().__init__(f"run {run_id} of DAG {dag_id} was already started (workflow {workflow})")


def is_transient(error: BaseException) -> bool:
    if isinstance(error, TemporalUnavailable | asyncio.TimeoutError | ConnectionError):
        return True
    return isinstance(error, RPCError) and error.status in TRANSIENT_CODES


class DagRunWorkflowClient:
    def __init__(self, settings: TemporalSettings):
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="temporal-client", daemon=True)
        self._client: Client | None = None
        self._connect_lock: asyncio.Lock | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            # Drop the client (and its Rust connection) on the loop thread while the interpreter is
            # fully alive, then stop the loop.
            self._loop.call_soon_threadsafe(self._drop_client)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)

    def _drop_client(self) -> None:
        self._client = None

    # -- calls made from the scheduler thread; each returns one result or exception per item --

    def submit(self, submissions: Iterable[TaskSubmission]) -> list[BaseException | None]:
        return self._gather(self._submit(s) for s in submissions)

    def progress(self, after_seq_by_workflow: Mapping[str, int]) -> dict[str, DagRunProgress | BaseException]:
        ids = list(after_seq_by_workflow)
        results = self._gather(self._progress(wid, after_seq_by_workflow[wid]) for wid in ids)
        return dict(zip(ids, results))

    def acknowledge(self, seq_by_workflow: Mapping[str, int]) -> list[BaseException | None]:
        return self._gather(
            self._signal(wid, SIGNAL_ACKNOWLEDGE_OUTCOMES, seq) for wid, seq in seq_by_workflow.items()
        )

    def start_workloads(self, runs: Mapping[str, WorkloadRun]) -> list[BaseException | None]:
        """Start one ``ExecutorWorkload`` workflow per id; one already started under that id counts as started."""
        return self._gather(self._start_workload(wid, run) for wid, run in runs.items())

    def workload_outcomes(self, ids: Iterable[str]) -> dict[str, WorkloadOutcome | WorkloadRunning | BaseException]:
        """Each workload workflow's result once it closed (WorkflowClosed when it ended without one)."""
        ids = list(ids)
        return dict(zip(ids, self._gather(self._workload_outcome(wid) for wid in ids)))

    def cancel(self, workflow: str, cancellation: TaskCancellation) -> BaseException | None:
        return self._gather([self._signal(workflow, SIGNAL_CANCEL_TASK, cancellation)])[0]

    def check(self) -> str:
        """Connect and describe the namespace; return a one-line summary or raise with the fix."""
        return self._call(self._describe_namespace())

    def start_owned_run(self, request: OwnedDagRunRequest) -> str:
        """Start the ``OwnedDagRun`` workflow of one run and return its id; raise RunAlreadyStarted if taken."""
        return self._call(self._start_owned_run(request))

    def owned_run_progress(self, dag_id: str, run_id: str) -> OwnedDagRunProgress:
        """The run's progress; once its workflow completed, just the final state.

        Raises WorkflowClosed when the workflow ended without a result (rejected, failed, terminated, ...).
        """
        return self._call(self._owned_run_progress(dag_id, run_id))

    def live_run(self, dag_id: str, run_id: str) -> LiveRun:
        """The run's workflow: its description, pending activities and ``view`` query answer.

        Raises WorkflowClosed when there is no such workflow, TemporalUnavailable when Temporal is out of reach.
        """
        return self._call(self._live_run(dag_id, run_id))

    # -- coroutines, run on the client thread --

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        result = self._gather([coro])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _gather(self, coros: Iterable[Coroutine[Any, Any, T]]) -> list[T | BaseException]:
        coros = list(coros)
        if not coros:
            return []

        async def run_all() -> list[T | BaseException]:
            return await asyncio.gather(*coros, return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(run_all(), self._loop)
        # Every call inside has its own rpc_timeout; this only guards against a wedged loop.
        return future.result(timeout=self.settings.rpc_timeout * 3 + 5)

    async def _connected(self) -> Client:
        if self._client is not None:
            return self._client
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self._client is None:
                s = self.settings
                try:
                    self._client = await asyncio.wait_for(
                        Client.connect(s.address, namespace=s.namespace, api_key=s.api_key or None,
                                       tls=_tls_config(s), data_converter=data_converter(s.codec_keys())),
                        timeout=s.rpc_timeout,
                    )
                except Exception as e:
                    fix = ("The server's TLS certificate is not signed by a CA this client trusts: set [temporal] "
                           "tls_server_ca_cert_path to the CA that signed it." if "UnknownIssuer" in str(e) else
                           "Check [temporal] address / tls / api_key (AIRFLOW__TEMPORAL__*) and that the server is up.")
                    raise TemporalUnavailable(
                        f"cannot reach Temporal at {s.address} (namespace {s.namespace!r}): {e or type(e).__name__}. {fix}"
                    ) from e
        return self._client

    def _rpc_timeout(self) -> timedelta:
        return timedelta(seconds=self.settings.rpc_timeout)

    async def _submit(self, submission: TaskSubmission) -> None:
        client = await self._connected()
        wid = workflow_id(submission.dag_id, submission.run_id)
        await client.start_workflow(
            WORKFLOW_TYPE,
            DagRunWorkflowInput(
                contract_version=CONTRACT_VERSION,
                dag_id=submission.dag_id,
                run_id=submission.run_id,
                idle_timeout_seconds=self.settings.workflow_idle_timeout,
            ),
            id=wid,
            task_queue=self.settings.task_queue,
            start_signal=SIGNAL_SUBMIT_TASK,
            start_signal_args=[submission],
            static_summary=f"Airflow DagRun {submission.dag_id} / {submission.run_id}",
            rpc_timeout=self._rpc_timeout(),
        )

    async def _start_workload(self, wid: str, run: WorkloadRun) -> None:
        client = await self._connected()
        try:
            await client.start_workflow(
                WORKLOAD_WORKFLOW_TYPE, run, id=wid, task_queue=self.settings.task_queue,
                # Submitted again after a timeout that hid a success: the one already started is it. A closed
                # one is not run twice either: its result is read.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                static_summary=f"Airflow {run.workload.get('type')} {wid.split(':', 1)[1]}",
                rpc_timeout=self._rpc_timeout(),
            )
        except WorkflowAlreadyStartedError:
            pass

    async def _workload_outcome(self, wid: str) -> WorkloadOutcome | WorkloadRunning:
        client = await self._connected()
        handle = client.get_workflow_handle(wid, result_type=WorkloadOutcome)
        try:
            description = await handle.describe(rpc_timeout=self._rpc_timeout())
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise WorkflowClosed(f"workflow {wid} does not exist in namespace {self.settings.namespace!r}",
                                     None) from e
            raise
        if description.status == WorkflowExecutionStatus.RUNNING:
            return WorkloadRunning(started=any(
                a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                for a in description.raw_description.pending_activities))
        try:
            return await handle.result(follow_runs=False, rpc_timeout=self._rpc_timeout())
        except WorkflowFailureError as e:
            raise WorkflowClosed(f"workflow {wid} ended without a result: {e.cause or e}", None) from e

    async def _progress(self, wid: str, after_seq: int) -> DagRunProgress:
        client = await self._connected()
        handle = client.get_workflow_handle(wid)
        try:
            return await handle.query(
                QUERY_PROGRESS, after_seq, result_type=DagRunProgress,
                reject_condition=QueryRejectCondition.NOT_OPEN, rpc_timeout=self._rpc_timeout(),
            )
        except WorkflowQueryRejectedError as e:
            # Closed (completed, failed, terminated): its final state still answers the query, once a worker
            # replays it. A closed workflow runs nothing, but its final outcomes are worth waiting for:
            # when Temporal cannot answer now, the caller asks again later.
            try:
                final = await handle.query(QUERY_PROGRESS, after_seq, result_type=DagRunProgress,
                                           rpc_timeout=self._rpc_timeout())
            except Exception as unreadable:
                if is_transient(unreadable):
                    raise
                final = None
            raise WorkflowClosed(f"workflow {wid} is {e.status.name if e.status else 'closed'}", final) from e
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise WorkflowClosed(f"workflow {wid} does not exist in namespace {self.settings.namespace!r}",
                                     None) from e
            raise

    async def _live_run(self, dag_id: str, run_id: str) -> LiveRun:
        wid = workflow_id(dag_id, run_id)
        client = await self._connected()
        try:
            description = await client.get_workflow_handle(wid).describe(rpc_timeout=self._rpc_timeout())
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise WorkflowClosed(f"workflow {wid} does not exist in namespace {self.settings.namespace!r}",
                                     None) from e
            raise
        # A closed workflow answers too, replayed by a worker: its final state.
        handle = client.get_workflow_handle(wid, run_id=description.run_id)
        view: RunView | None = None
        view_error = None
        try:
            view = await handle.query(QUERY_VIEW, result_type=RunView, rpc_timeout=self._rpc_timeout())
        except Exception as e:  # shown on the page in the view's place; the description still is
            view_error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        pending = [await _pending_activity(client, p) for p in description.raw_description.pending_activities]
        return LiveRun(workflow_id=wid, temporal_run_id=description.run_id, workflow_type=description.workflow_type,
                       status=description.status.name if description.status else "UNKNOWN",
                       started_at=description.start_time, closed_at=description.close_time,
                       view=view, view_error=view_error, pending=pending)

    async def _start_owned_run(self, request: OwnedDagRunRequest) -> str:
        wid = workflow_id(request.dag_id, request.run_id)
        client = await self._connected()
        try:
            await client.start_workflow(
                OWNED_WORKFLOW_TYPE,
                args=[request, None],  # no carried state: only the workflow itself continues as new
                id=wid,
                task_queue=self.settings.task_queue,
                # A closed workflow keeps its id too: a run id is used once, so nothing is created twice.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                static_summary=f"Temporal-owned DagRun {request.dag_id} / {request.run_id}",
                rpc_timeout=self._rpc_timeout(),
            )
        except WorkflowAlreadyStartedError as e:
            raise RunAlreadyStarted(request.dag_id, request.run_id, wid) from e
        return wid

    async def _owned_run_progress(self, dag_id: str, run_id: str) -> OwnedDagRunProgress:
        wid = workflow_id(dag_id, run_id)
        client = await self._connected()
        handle = client.get_workflow_handle(wid, result_type=str)
        try:
            return await handle.query(QUERY_PROGRESS, result_type=OwnedDagRunProgress,
                                      reject_condition=QueryRejectCondition.NOT_OPEN, rpc_timeout=self._rpc_timeout())
        except WorkflowQueryRejectedError:
            # Closed: a completed workflow's result is the DagRun's final state, a failed one's failure says why.
            try:
                state = await handle.result(rpc_timeout=self._rpc_timeout())
            except WorkflowFailureError as e:
                if isinstance(e.cause, ApplicationError) and e.cause.type == REJECTED_FAILURE_TYPE:
                    # Refused and closed before it was asked: as the query would have answered.
                    return OwnedDagRunProgress(contract_version=CONTRACT_VERSION, dag_id=dag_id, run_id=run_id,
                                               state="rejected", error=e.cause.message, task_states={}, running=[])
                raise WorkflowClosed(f"workflow {wid} ended without a result: {e.cause or e}", None) from e
            return OwnedDagRunProgress(contract_version=CONTRACT_VERSION, dag_id=dag_id, run_id=run_id, state=state,
                                       error=None, task_states={}, running=[])
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise WorkflowClosed(f"workflow {wid} does not exist in namespace {self.settings.namespace!r}",
                                     None) from e
            raise

    async def _signal(self, wid: str, signal: str, arg: Any) -> None:
        client = await self._connected()
        await client.get_workflow_handle(wid).signal(signal, arg, rpc_timeout=self._rpc_timeout())

    async def _describe_namespace(self) -> str:
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

        client = await self._connected()
        try:
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=self.settings.namespace), timeout=self._rpc_timeout()
            )
        except RPCError as e:
            if e.status == RPCStatusCode.NOT_FOUND:
                raise TemporalUnavailable(
                    f"Temporal namespace {self.settings.namespace!r} does not exist at {self.settings.address}: "
                    f"create it or fix [temporal] namespace"
                ) from e
            raise
        return f"Temporal at {self.settings.address}, namespace {self.settings.namespace!r}: reachable"


async def _pending_activity(client: Client, info: Any) -> PendingActivity:
    """A ``PendingActivityInfo``, its heartbeat details and failure decoded through the client's codec."""

    def at(field: str) -> datetime | None:
        return getattr(info, field).ToDatetime(tzinfo=timezone.utc) if info.HasField(field) else None

    whereabouts: dict[str, Any] = {}
    if info.HasField("heartbeat_details") and info.heartbeat_details.payloads:
        try:
            decoded = await client.data_converter.decode(info.heartbeat_details.payloads)
            whereabouts = decoded[0] if decoded and isinstance(decoded[0], dict) else {}
        except Exception as e:  # another worker's codec key: shown, not fatal
            whereabouts = {"attempt": f"(heartbeat unreadable: {e})"}
    failure = None
    if info.HasField("last_failure"):
        failure = str(await client.data_converter.decode_failure(info.last_failure))
    return PendingActivity(
        activity_id=info.activity_id,
        activity_type=info.activity_type.name,
        state=PendingActivityState.Name(info.state).removeprefix("PENDING_ACTIVITY_STATE_").lower(),
        attempt=info.attempt,
        maximum_attempts=info.maximum_attempts,
        worker_identity=info.last_worker_identity,
        runner=whereabouts.get("attempt"),
        host=whereabouts.get("host"),
        pid=whereabouts.get("pid") or None,
        scheduled_at=at("scheduled_time"),
        last_started_at=at("last_started_time"),
        last_heartbeat_at=at("last_heartbeat_time"),
        next_attempt_at=at("next_attempt_schedule_time"),
        last_failure=failure,
    )


def _tls_config(settings: TemporalSettings) -> TLSConfig | bool:
    if not settings.uses_tls:
        return False

    def read(path: str) -> bytes | None:
        return open(path, "rb").read() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.tls_server_ca_cert_path),
        client_cert=read(settings.tls_client_cert_path),
        client_private_key=read(settings.tls_client_key_path),
        domain=settings.tls_server_name or None,
    )
