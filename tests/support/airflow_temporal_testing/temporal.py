"""Reading a DagRun's Temporal workflow from the tests (temporalio client, sync wrappers)."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client


TASK_ACTIVITY_TYPE = "run_task"
#: Set by the stack fixture when the stack runs with the payload codec on (Stack(codec_key=...)).
_codec = None


def use_codec_key(codec_key: str | None) -> None:
    """Read histories of a stack whose payloads are encrypted (None: they are in clear)."""
    global _codec
    from airflow_temporal.codec import AesGcmPayloadCodec, CodecKeys

    _codec = AesGcmPayloadCodec(CodecKeys.parse(codec_key)) if codec_key else None

_CLOSE_EVENTS = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "completed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "failed",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "canceled",
}


async def _client(address: str) -> Client:
    return await Client.connect(address, namespace="default")


def list_executions(address: str, workflow_id: str) -> list[dict]:
    """All executions (any status, any run) carrying this workflow id, per the visibility store."""

    async def go():
        client = await _client(address)
        out = []
        async for wf in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
            out.append({"id": wf.id, "run_id": wf.run_id, "status": wf.status, "type": wf.workflow_type,
                        "task_queue": wf.task_queue})
        return out

    return asyncio.run(go())


def history_events(address: str, workflow_id: str) -> list:
    async def go():
        client = await _client(address)
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        return list(history.events)

    return asyncio.run(go())


def _decode_payloads(payloads) -> list:
    out = []
    for p in payloads:
        if _codec is not None:
            p = _codec.decrypt(p)
        try:
            out.append(json.loads(p.data))
        except (ValueError, UnicodeDecodeError):
            out.append(p.data)
    return out


def _mentions_task(obj, task_id: str) -> bool:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("task_id", "taskId") and v == task_id:
                return True
            if _mentions_task(v, task_id):
                return True
    elif isinstance(obj, list):
        return any(_mentions_task(v, task_id) for v in obj)
    elif isinstance(obj, str) and obj[:1] in "{[":
        try:
            return _mentions_task(json.loads(obj), task_id)
        except ValueError:
            return False
    return False


@dataclass
class Activity:
    scheduled_event_id: int
    activity_id: str
    activity_type: str
    task_queue: str
    input: list
    started_identity: str | None = None
    closed: str | None = None
    extra: dict = field(default_factory=dict)

    def for_task(self, task_id: str) -> bool:
        return _mentions_task(self.input, task_id)


def activities(events) -> list[Activity]:
    by_id: dict[int, Activity] = {}
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            a = e.activity_task_scheduled_event_attributes
            by_id[e.event_id] = Activity(
                scheduled_event_id=e.event_id, activity_id=a.activity_id, activity_type=a.activity_type.name,
                task_queue=a.task_queue.name, input=_decode_payloads(a.input.payloads),
            )
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            a = e.activity_task_started_event_attributes
            if a.scheduled_event_id in by_id:
                by_id[a.scheduled_event_id].started_identity = a.identity
        elif e.event_type in _CLOSE_EVENTS:
            attr_name = {
                EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
                EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
                EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
                EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
            }[e.event_type]
            a = getattr(e, attr_name)
            if a.scheduled_event_id in by_id:
                by_id[a.scheduled_event_id].closed = _CLOSE_EVENTS[e.event_type]
    return list(by_id.values())


def task_activities(address: str, workflow_id: str, task_id: str) -> list[Activity]:
    """The `run_task` activities (one per Airflow attempt) of one task in a DagRun's workflow."""
    return [a for a in activities(history_events(address, workflow_id))
            if a.activity_type == TASK_ACTIVITY_TYPE and a.for_task(task_id)]


def describe_activities(address: str, workflow_id: str) -> str:
    """A readable summary for assertion messages."""
    try:
        acts = activities(history_events(address, workflow_id))
    except Exception as exc:  # noqa: BLE001
        return f"<history of {workflow_id} unavailable: {exc!r}>"
    return "\n".join(
        f"  #{a.scheduled_event_id} {a.activity_type} id={a.activity_id} queue={a.task_queue} "
        f"identity={a.started_identity} closed={a.closed}" for a in acts
    ) or "  <no activities>"


def workflow_outcome(address: str, workflow_id: str) -> tuple[str, object]:
    """How the workflow's latest run closed: ("completed", its decoded result), ("failed", (the failure's
    application type, its message)), or ("open", None)."""
    last = history_events(address, workflow_id)[-1]
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        (result,) = _decode_payloads(last.workflow_execution_completed_event_attributes.result.payloads)
        return "completed", result
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        failure = last.workflow_execution_failed_event_attributes.failure
        return "failed", (failure.application_failure_info.type, failure.message)
    return "open", None
