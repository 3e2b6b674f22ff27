"""The Python half of the wire contract: the same fixtures as Java's WireContractTest."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from temporalio.converter import DataConverter

from airflow_temporal.executor import submission_for
from airflow_temporal.wire import (
    AttemptKey,
    DagRunProgress,
    DagRunWorkflowInput,
    TaskCancellation,
    TaskSubmission,
    workflow_id,
)

CONVERTER = DataConverter.default.payload_converter


def decode(value: dict, cls):
    payload = CONVERTER.to_payloads([value])[0]
    return CONVERTER.from_payloads([payload], [cls])[0]


def encode(obj) -> object:
    return json.loads(CONVERTER.to_payloads([obj])[0].data)


def same_json(expected, actual, path="$"):
    """Equal JSON, with datetimes compared as instants (Java writes 'Z' for '+00:00')."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), path
        for k in expected:
            same_json(expected[k], actual[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (e, a) in enumerate(zip(expected, actual)):
            same_json(e, a, f"{path}[{i}]")
    elif isinstance(expected, str) and _is_datetime(expected):
        assert datetime.fromisoformat(actual) == datetime.fromisoformat(expected), path
    else:
        assert actual == expected, path


def _is_datetime(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


@pytest.mark.parametrize(
    ("fixture", "cls"),
    [
        ("task_submission.json", TaskSubmission),
        ("task_cancellation.json", TaskCancellation),
        ("dag_run_workflow_input.json", DagRunWorkflowInput),
        ("dag_run_progress.json", DagRunProgress),
    ],
)
def test_every_fixture_round_trips_without_losing_a_field(wire_fixture, fixture, cls):
    original = wire_fixture(fixture)
    same_json(original, encode(decode(original, cls)))


def test_submission_decodes_nested_records_and_tz_aware_datetimes(wire_fixture):
    submission = decode(wire_fixture("task_submission.json"), TaskSubmission)
    assert submission.attempt == AttemptKey(task_id="extract", map_index=-1, try_number=1)
    assert submission.submitted_at == datetime(2026, 11, 23, 5, 0, 1, 250000, tzinfo=timezone.utc)
    assert submission.queue is None


def test_unknown_fields_from_a_newer_peer_are_ignored(wire_fixture):
    submission = decode(wire_fixture("task_submission_routed_with_unknown_fields.json"), TaskSubmission)
    assert submission.queue == "special"
    assert submission.submitted_at.utcoffset().total_seconds() == 3600


def test_progress_outcome_without_exit_code_decodes(wire_fixture):
    progress = decode(wire_fixture("dag_run_progress.json"), DagRunProgress)
    assert [o.state for o in progress.outcomes] == ["success", "failed"]
    assert progress.outcomes[1].exit_code is None
    assert progress.running == [AttemptKey("load", -1, 1)]


def test_workflow_id_matches_the_java_derivation():
    # Same expectation as WorkflowIdsTest on the Java side.
    assert workflow_id("etl", "manual__2026-11-23T05:00:00+00:00") == "dagrun:etl:manual__2026-11-23T05:00:00+00:00"
    with pytest.raises(ValueError, match="dag_id"):
        workflow_id("a:b", "r")


def _execute_task(queue: str = "default"):
    from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO

    ti_id = uuid.uuid4()
    return ExecuteTask(
        ti=TaskInstanceDTO(
            id=ti_id, dag_version_id=uuid.uuid4(), task_id="extract", dag_id="example_temporal_chain",
            run_id="manual__2026-11-23T05:00:00+00:00", try_number=1, map_index=-1, pool_slots=1,
            queue=queue, priority_weight=3,
        ),
        dag_rel_path="example_temporal_chain.py",
        token="token",
        bundle_info=BundleInfo(name="dags-folder", version=None),
        log_path="x.log",
    )


def test_a_real_airflow_workload_becomes_a_submission_shaped_like_the_fixture(wire_fixture):
    fixture = wire_fixture("task_submission.json")
    encoded = encode(submission_for(_execute_task(), default_queue="default"))
    assert set(encoded) == set(fixture)
    assert set(encoded["attempt"]) == set(fixture["attempt"])
    assert encoded["queue"] is None
    assert encoded["workload"]["type"] == "ExecuteTask"
    # The workload the runner gets back must validate as Airflow's own model.
    from pydantic import TypeAdapter

    from airflow.executors import workloads

    TypeAdapter(workloads.All).validate_python(encoded["workload"])
    assert datetime.fromisoformat(encoded["submitted_at"]).tzinfo is not None


def test_a_non_default_queue_is_sent_for_routing():
    assert submission_for(_execute_task("special"), default_queue="default").queue == "special"
