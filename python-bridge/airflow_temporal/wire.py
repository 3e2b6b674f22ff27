"""
The JSON contract with the Java workflows (docs/wire-contract.md), as dataclasses.

Temporal's default Python converter writes these with their snake_case field names and
tz-aware ISO-8601 datetimes, and ignores unknown fields when reading: the same dialect the
Java side's ``WireJson`` speaks. The fixtures in docs/wire-contract/fixtures are tested here
and in Java's ``WireContractTest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CONTRACT_VERSION = 1
WORKFLOW_TYPE = "DagRunWorkflow"
SIGNAL_SUBMIT_TASK = "submit_task"
SIGNAL_CANCEL_TASK = "cancel_task"
SIGNAL_ACKNOWLEDGE_OUTCOMES = "acknowledge_outcomes"
QUERY_PROGRESS = "progress"
WORKFLOW_ID_PREFIX = "dagrun:"


def workflow_id(dag_id: str, run_id: str) -> str:
    """The DagRun's workflow id, derived from (dag_id, run_id) alone (Java: ``WorkflowIds``)."""
    if not dag_id or ":" in dag_id:
        raise ValueError(f"dag_id must be non-empty and contain no ':' but was {dag_id!r}")
    if not run_id:
        raise ValueError("run_id must be non-empty")
    return f"{WORKFLOW_ID_PREFIX}{dag_id}:{run_id}"


@dataclass(frozen=True)
class AttemptKey:
    task_id: str
    map_index: int
    try_number: int


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


@dataclass(frozen=True)
class DagRunProgress:
    running: list[AttemptKey]
    outcomes: list[TaskOutcome]
    last_seq: int
