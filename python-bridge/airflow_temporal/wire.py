"""
The JSON contract with the Java workflows (docs/wire-contract.md), as dataclasses.

Temporal's default Python converter writes these with their snake_case field names and
tz-aware ISO-8601 datetimes, and ignores unknown fields when reading: the same dialect the
Java side's ``WireJson`` speaks. The fixtures in docs/wire-contract/fixtures are tested here
and in Java's ``WireContractTest``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

CONTRACT_VERSION = 1
WORKFLOW_TYPE = "DagRunWorkflow"
SIGNAL_SUBMIT_TASK = "submit_task"
SIGNAL_CANCEL_TASK = "cancel_task"
SIGNAL_ACKNOWLEDGE_OUTCOMES = "acknowledge_outcomes"
QUERY_PROGRESS = "progress"
QUERY_VIEW = "view"
WORKFLOW_ID_PREFIX = "dagrun:"
#: One workflow per callback or connection test (Java: ``ExecutorWorkloadWorkflow``), ids from Airflow's keys.
WORKLOAD_WORKFLOW_TYPE = "ExecutorWorkload"
CALLBACK_WORKFLOW_ID_PREFIX = "callback:"
CONNECTION_TEST_WORKFLOW_ID_PREFIX = "connection-test:"
#: The Temporal-owned DagRun workflow; same workflow id and base task queue as ``DagRunWorkflow``.
OWNED_WORKFLOW_TYPE = "OwnedDagRun"
EXTERNAL_RUN_ID_PREFIX = "external__"
#: Airflow 3.3's ``DagRunTriggeredByType`` values (Java: ``OwnedDagRunRequest.TRIGGERED_BY``).
TRIGGERED_BY = frozenset({"cli", "operator", "rest_api", "ui", "test", "timetable", "asset", "backfill"})


def workflow_id(dag_id: str, run_id: str) -> str:
    """The DagRun's workflow id, derived from (dag_id, run_id) alone (Java: ``WorkflowIds``)."""
    if not dag_id or ":" in dag_id:
        raise ValueError(f"dag_id must be non-empty and contain no ':' but was {dag_id!r}")
    if not run_id:
        raise ValueError("run_id must be non-empty")
    return f"{WORKFLOW_ID_PREFIX}{dag_id}:{run_id}"


def workload_workflow_id(workload: Any) -> str:
    """The workflow id of a callback or connection test workload, from Airflow's own key for it."""
    if workload.type == "ExecuteCallback":
        return f"{CALLBACK_WORKFLOW_ID_PREFIX}{workload.callback.id}"
    if workload.type == "TestConnection":
        return f"{CONNECTION_TEST_WORKFLOW_ID_PREFIX}{workload.connection_test_id}"
    raise ValueError(f"no workload workflow for {workload.type} workloads")


def external_run_id(run_after: datetime) -> str:
    """The run id of the external run due at ``run_after``, in Airflow's form (Java: ``RunIds.external``)."""
    if run_after.tzinfo is None:
        raise ValueError(f"run_after must carry a time zone, got {run_after!r}")
    return EXTERNAL_RUN_ID_PREFIX + run_after.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class AttemptKey:
    task_id: str
    map_index: int
    try_number: int

    def label(self) -> str:
        """As Java's ``AttemptKey.label``: ``extract[3] try 2`` (in activity summaries, logs and heartbeats)."""
        return f"{self.task_id}{f'[{self.map_index}]' if self.map_index >= 0 else ''} try {self.try_number}"


@dataclass(frozen=True)
class DagRunWorkflowInput:
    contract_version: int
    dag_id: str
    run_id: str
    idle_timeout_seconds: int | None = None
    continue_as_new_after_events: int | None = None
    carried_submissions: list[TaskSubmission] = field(default_factory=list)
    carried_outcomes: list[TaskOutcome] = field(default_factory=list)
    carried_acknowledged_seq: int = 0


@dataclass(frozen=True)
class TaskSubmission:
    contract_version: int
    dag_id: str
    run_id: str
    attempt: AttemptKey
    ti_id: str
    queue: str | None
    priority_weight: int
    submitted_at: datetime
    workload: dict[str, Any]
    #: Airflow's ``task_instance.external_executor_id`` for this queueing of the attempt (pre-assigned by the
    #: scheduler and committed with QUEUED): how a restarted scheduler finds the attempt.
    external_executor_id: str | None = None


@dataclass(frozen=True)
class TaskCancellation:
    contract_version: int
    attempt: AttemptKey
    reason: str


@dataclass(frozen=True)
class TaskOutcome:
    seq: int
    attempt: AttemptKey
    state: str  # "success": the runner exited cleanly; "failed": it did not, or never started
    exit_code: int | None
    reason: str | None
    output_tail: str
    finished_at: datetime
    external_executor_id: str | None = None


@dataclass(frozen=True)
class DagRunProgress:
    running: list[AttemptKey]
    outcomes: list[TaskOutcome]
    last_seq: int
    #: The external executor ids of every attempt the workflow holds (waiting, running, or with an outcome
    #: not yet acknowledged), whatever ``after_seq``; None from a worker that predates them.
    external_executor_ids: list[str] | None = None


@dataclass(frozen=True)
class WorkloadRun:
    """Input of ``ExecutorWorkload``: an ``ExecuteCallback`` or ``TestConnection`` workload, unchanged.

    ``queue``: the Airflow queue whose workers run it, None for the default one. A connection test's workload
    carries the connection's id and a token only: its runner fetches the connection from the Execution API.
    """

    contract_version: int
    queue: str | None
    workload: dict[str, Any]


@dataclass(frozen=True)
class WorkloadOutcome:
    """Result of ``ExecutorWorkload``: how the workload's runner ended (as ``TaskOutcome`` for an attempt)."""

    state: str  # "success" or "failed"
    exit_code: int | None
    reason: str | None
    output_tail: str


# -- Temporal-owned DagRuns (workflow type OwnedDagRun) --


@dataclass(frozen=True)
class OwnedDagRunRequest:
    """Input of ``OwnedDagRun``: create this DagRun (``run_type='external'``) and drive it to the end."""

    contract_version: int
    dag_id: str
    run_id: str
    # Must be a JSON object (None means {}). Typed Any so that a wrong type decodes and problems() names it.
    conf: Any
    logical_date: datetime | None
    run_after: datetime
    triggered_by: str
    triggering_user_name: str | None

    def problems(self) -> list[str]:
        """Every problem that makes this request unusable, worded as the workflow words them."""
        problems = []
        if self.contract_version != CONTRACT_VERSION:
            problems.append(
                f"contract_version {self.contract_version} is not supported (this airflow-temporal speaks "
                f"{CONTRACT_VERSION}); deploy matching versions of airflow-temporal and the worker JAR"
            )
        if not self.dag_id or not self.dag_id.strip():
            problems.append("dag_id is missing")
        if not self.run_id or not self.run_id.strip():
            problems.append("run_id is missing")
        if self.conf is not None and not isinstance(self.conf, dict):
            text = json.dumps(self.conf, separators=(",", ":"))
            abbreviated = text if len(text) <= 60 else text[:57] + "..."
            problems.append(f"conf must be a JSON object, got {_json_type(self.conf)} {abbreviated}")
        if self.run_after is None:
            problems.append("run_after is missing")
        if self.triggered_by not in TRIGGERED_BY:
            problems.append(f"triggered_by must be one of {sorted(TRIGGERED_BY)} but was {self.triggered_by}")
        return problems


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, as Jackson's node types name it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def owned_dag_run_request(
    *,
    dag_id: str,
    conf: Any,
    run_after: datetime,
    logical_date: datetime | None,
    triggered_by: str,
    triggering_user_name: str | None,
    run_id: str | None = None,
) -> OwnedDagRunRequest:
    """A valid request; ``run_id`` defaults to :func:`external_run_id`. Raises ValueError naming every problem."""
    request = OwnedDagRunRequest(
        contract_version=CONTRACT_VERSION,
        dag_id=dag_id,
        run_id=run_id or external_run_id(run_after),
        conf={} if conf is None else conf,
        logical_date=logical_date,
        run_after=run_after,
        triggered_by=triggered_by,
        triggering_user_name=triggering_user_name,
    )
    problems = request.problems()
    if problems:
        raise ValueError("; ".join(problems))
    return request


@dataclass(frozen=True)
class OwnedDagRunProgress:
    """Answer of ``OwnedDagRun``'s ``progress`` query (the workflow's result is just the final ``state``).

    ``state``: ``creating`` until the DagRun and its TaskInstances exist (``resuming`` in an execution that
    resumes a run cleared in Airflow, until it has taken the run; ``queued`` while the DAG's
    ``max_active_runs`` are running), then ``running``, then Airflow's final ``success`` or ``failed``;
    ``rejected`` when the request was refused and nothing was created.
    """

    contract_version: int
    dag_id: str
    run_id: str
    state: str
    error: str | None
    task_states: dict[str, int]  # TaskInstances per Airflow state; "none" = not started
    running: list[str]  # attempts in flight, as "task[map_index] try N"


@dataclass(frozen=True)
class AttemptView:
    """One attempt in a ``RunView`` (Java: ``AttemptView``).

    ``state``: ``waiting`` (executor mode: handed over, not started), ``running``, then how executor mode's
    runner ended (``finished``: exited 0, ``failed``, ``revoked``), or the state Airflow's DB gave an owned try
    (``up_for_retry``, ...).
    """

    task_id: str
    map_index: int
    try_number: int
    state: str
    queue: str | None
    started_at: datetime | None
    ended_at: datetime | None
    detail: str | None

    @property
    def key(self) -> AttemptKey:
        return AttemptKey(self.task_id, self.map_index, self.try_number)


@dataclass(frozen=True)
class RunWait:
    """What a Temporal-owned run waits for (Java: ``RunWait``); ``task_id`` None: the run itself.

    ``reason``: ``max_active_runs``, ``max_active_tasks``, ``pool``, ``retry_delay``, ``reschedule``,
    ``trigger`` or ``human_input``; ``until``: when it ends on its own or the workflow looks again.
    """

    task_id: str | None
    map_index: int
    try_number: int
    reason: str
    until: datetime | None
    detail: str | None


@dataclass(frozen=True)
class RunView:
    """Answer of the ``view`` query of either DagRun workflow: what the Airflow UI's Temporal tab shows."""

    contract_version: int
    mode: str  # "executor" or "owned"
    phase: str
    error: str | None
    attempts: list[AttemptView]
    omitted_attempts: int
    waits: list[RunWait]
