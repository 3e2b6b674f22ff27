"""The Python half of the wire contract: the same fixtures as Java's WireContractTest."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from temporalio.converter import DataConverter

from airflow_temporal.executors.temporal_executor import submission_for
from airflow_temporal.wire import (
    TRIGGERED_BY,
    AttemptKey,
    DagRunProgress,
    DagRunWorkflowInput,
    OwnedDagRunProgress,
    OwnedDagRunRequest,
    RunView,
    TaskCancellation,
    TaskSubmission,
    WorkloadOutcome,
    WorkloadRun,
    external_run_id,
    workload_workflow_id,
    owned_dag_run_request,
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
        ("owned_dag_run_request.json", OwnedDagRunRequest),
        ("owned_dag_run_request_invalid.json", OwnedDagRunRequest),
        ("owned_dag_run_progress.json", OwnedDagRunProgress),
        ("workload_run_callback.json", WorkloadRun),
        ("workload_run_connection_test.json", WorkloadRun),
        ("workload_outcome.json", WorkloadOutcome),
        ("run_view.json", RunView),
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
    assert progress.outcomes[0].external_executor_id == "019ab3c2-7d1f-7000-8000-0000000000a1"
    assert len(progress.external_executor_ids) == 2


def test_progress_from_a_worker_that_predates_external_ids_says_so_with_none(wire_fixture):
    older = wire_fixture("dag_run_progress.json")
    del older["external_executor_ids"]
    assert decode(older, DagRunProgress).external_executor_ids is None


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


def test_the_scheduler_pre_assigned_external_executor_id_travels_beside_the_workload_not_in_it():
    workload = _execute_task()
    workload.ti.external_executor_id = "019ab3c2-7d1f-7000-8000-0000000000a1"
    encoded = encode(submission_for(workload, default_queue="default"))
    assert encoded["external_executor_id"] == "019ab3c2-7d1f-7000-8000-0000000000a1"
    assert "external_executor_id" not in encoded["workload"]["ti"]


def test_a_non_default_queue_is_sent_for_routing():
    assert submission_for(_execute_task("special"), default_queue="default").queue == "special"


# -- Temporal-owned runs --


@pytest.mark.parametrize(
    ("run_after", "expected"),
    [  # the same cases as Java's RunIdsTest
        ("2026-11-23T08:00:00+00:00", "external__2026-11-23T08:00:00+00:00"),
        ("2026-11-23T08:00:00.25+00:00", "external__2026-11-23T08:00:00.250000+00:00"),
        ("2026-11-23T09:30:00.000001+01:30", "external__2026-11-23T08:00:00.000001+00:00"),
    ],
)
def test_external_run_id_matches_the_java_derivation(run_after, expected):
    assert external_run_id(datetime.fromisoformat(run_after)) == expected


def test_external_run_id_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError, match="time zone"):
        external_run_id(datetime(2026, 11, 23, 8))


def test_owned_run_request_carries_its_run_id_in_airflows_form_and_conf_as_an_object(wire_fixture):
    request = decode(wire_fixture("owned_dag_run_request.json"), OwnedDagRunRequest)
    assert request.problems() == []
    assert request.run_id == external_run_id(request.run_after)
    assert request.conf == {"greeting": "hello", "rows": [1, 2, 3]}
    assert request.logical_date == request.run_after


def test_invalid_owned_run_request_names_every_problem(wire_fixture):
    request = decode(wire_fixture("owned_dag_run_request_invalid.json"), OwnedDagRunRequest)
    conf_problem, triggered_by_problem = request.problems()
    assert conf_problem == "conf must be a JSON object, got array [1,2,3]"  # Java's wording
    assert triggered_by_problem.startswith("triggered_by must be one of ")
    assert triggered_by_problem.endswith("but was scheduler")


def test_triggered_by_values_are_airflows():
    from airflow.utils.types import DagRunTriggeredByType

    assert TRIGGERED_BY == {t.value for t in DagRunTriggeredByType}


def test_a_built_request_is_shaped_like_the_fixture(wire_fixture):
    run_after = datetime(2026, 11, 23, 8, 0, 0, 250000, tzinfo=timezone.utc)
    request = owned_dag_run_request(
        dag_id="example_temporal_chain", conf={"greeting": "hello", "rows": [1, 2, 3]}, run_after=run_after,
        logical_date=run_after, triggered_by="cli", triggering_user_name="alice",
    )
    same_json(wire_fixture("owned_dag_run_request.json"), encode(request))


def test_building_a_request_refuses_every_problem_at_once():
    with pytest.raises(ValueError, match=r"conf must be a JSON object, got string \"x\"; triggered_by must be"):
        owned_dag_run_request(dag_id="d", conf="x", run_after=datetime.now(timezone.utc), logical_date=None,
                              triggered_by="nobody", triggering_user_name=None)
    request = owned_dag_run_request(dag_id="d", conf=None, run_after=datetime.now(timezone.utc),
                                    logical_date=None, triggered_by="cli", triggering_user_name=None, run_id="r1")
    assert (request.conf, request.run_id) == ({}, "r1")


def test_owned_run_progress_decodes(wire_fixture):
    progress = decode(wire_fixture("owned_dag_run_progress.json"), OwnedDagRunProgress)
    assert progress.state == "running" and progress.error is None
    assert progress.task_states == {"success": 2, "running": 1, "none": 1}
    assert progress.running == ["validate try 1"]


def test_owned_task_workload_becomes_airflows_execute_task(wire_fixture, monkeypatch):
    """The Java record carries exactly the fields of Airflow's TaskInstanceDTO that the runner needs."""
    from airflow.api_fastapi.execution_api.app import _jwt_validator

    from airflow_temporal.worker.task_runner import execute_task
    from airflow_temporal.worker.token_minter import answer, jwt_generator

    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "wire-contract-test-" + "s" * 64)
    owned = wire_fixture("owned_task_workload.json")
    # The worker adds the token its host's minter signed to the file it writes for the runner.
    workload = execute_task({**owned, "token": answer(owned["ti"]["id"], jwt_generator())["token"]})

    dumped = workload.model_dump(mode="json")
    same_json(owned["ti"], {key: dumped["ti"][key] for key in owned["ti"]})
    # What the Java record leaves out is optional in Airflow's model and unset by the scheduler too.
    assert {key: dumped["ti"][key] for key in set(dumped["ti"]) - set(owned["ti"])} == \
        {"hostname": None, "context_carrier": None}
    assert (dumped["dag_rel_path"], dumped["bundle_info"]) == (owned["dag_rel_path"], owned["bundle_info"])
    assert workload.log_path == ("dag_id=example_temporal_chain/run_id=external__2026-11-23T08:00:00.250000+00:00/"
                                 "task_id=transform/attempt=1.log")
    # Signed by the minter as the scheduler signs it: the Execution API's own validator accepts it for this TI.
    claims = _jwt_validator().validated_claims(workload.token)
    assert (claims["sub"], claims["scope"]) == (owned["ti"]["id"], "workload")


def test_callback_and_connection_test_workloads_travel_unchanged_under_workflow_ids_from_airflows_keys(wire_fixture):
    from pydantic import TypeAdapter

    from airflow.executors import workloads

    decoder = TypeAdapter(workloads.ExecutorWorkload)
    for fixture, expected_id in (("workload_run_callback.json", "callback:0192f2a4-7c1e-7b11-8e2f-3a4b5c6d7e8f"),
                                 ("workload_run_connection_test.json",
                                  "connection-test:0192f2a4-7c1e-7a53-9d6b-5f0e3c2b1a90")):
        run = decode(wire_fixture(fixture), WorkloadRun)
        workload = decoder.validate_python(run.workload)  # Airflow's own model reads what the runner will read
        assert workload.model_dump(mode="json") == run.workload
        assert workload_workflow_id(workload) == expected_id


def test_airflows_connection_test_workload_carries_the_connection_id_and_no_credential():
    from airflow.executors.workloads import TestConnection

    workload = TestConnection.make(connection_test_id=uuid.uuid4(), connection_id="warehouse_db", timeout=60)
    # The runner fetches host, login and password once from the Execution API; none of them travels here.
    assert set(workload.model_dump(mode="json")) == {"token", "connection_test_id", "connection_id", "timeout",
                                                     "queue", "type"}
