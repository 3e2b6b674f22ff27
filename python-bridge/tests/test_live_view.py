"""The run page's Temporal tab: a workflow's ``view`` answer and description as HTML, and the pages for runs
without a readable workflow (against a real Temporal dev server, and an address nothing listens on)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from html import unescape

from fastapi.testclient import TestClient
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from airflow_temporal.executors.workflow_client import LiveRun, PendingActivity
from airflow_temporal.plugins.live_view import render_live_run
from airflow_temporal.plugins.temporal_plugin import RUN_TYPE_LABELS, dag_run_workflow_page, locales
from airflow_temporal.wire import RunView

DAG = "etl"
RUN = "external__2026-11-23T08:00:00+00:00"
UI = "http://127.0.0.1:8233"
AT = datetime(2026, 11, 23, 8, 0, 5, tzinfo=timezone.utc)


def view_from_the_wire(wire_fixture, **changes) -> RunView:
    """The fixture as the Java workflow's query answers it, decoded as the plugin's client decodes it."""
    answer = {**wire_fixture("run_view.json"), **changes}
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(answer).encode())
    return DataConverter.default.payload_converter.from_payloads([payload], [RunView])[0]


def live(view: RunView | None, pending: list[PendingActivity], status: str = "RUNNING", **kwargs) -> LiveRun:
    return LiveRun(workflow_id=f"dagrun:{DAG}:{RUN}", temporal_run_id="0190-run", workflow_type="OwnedDagRun",
                   status=status, started_at=AT, closed_at=None, view=view, view_error=kwargs.get("view_error"),
                   pending=pending)


def pending(runner: str | None, **kwargs) -> PendingActivity:
    fields = dict(activity_id="3f2a", activity_type="run_owned_task", state="started", attempt=1, maximum_attempts=1,
                  worker_identity="special-worker", runner=runner, host="worker-b", pid=4242, scheduled_at=AT,
                  last_started_at=AT, last_heartbeat_at=AT, next_attempt_at=None, last_failure=None)
    return PendingActivity(**{**fields, **kwargs})


def render(live_run: LiveRun) -> str:
    return render_live_run(live_run, ui_url=UI, namespace="default", dag_id=DAG, run_id=RUN)


def rows(html: str) -> list[str]:
    """Each table row's cells as plain text (an empty one as '-'), joined by ' | '."""

    def text(cell: str) -> str:
        return unescape(" ".join(re.sub(r"<[^>]+>", " ", cell).split())) or "-"

    return [" | ".join(text(cell) for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S))
            for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


def test_each_attempt_is_a_row_and_the_running_one_shows_its_worker_and_heartbeat(wire_fixture):
    html = render(live(view_from_the_wire(wire_fixture), [pending(f"{DAG}/{RUN}/fan[2] try 1")]))
    table = rows(html)
    assert ("extract | - | 1 | up_for_retry | default | - | 2026-11-23 08:00:01 UTC | 2026-11-23 08:00:09 UTC | - "
            "| - | history") in table
    assert ("fan | 2 | 1 | running | special | special-worker pid 4242 on worker-b | 2026-11-23 08:00:02 UTC | - "
            "| 2026-11-23 08:00:05 UTC | - | history") in table
    history = f"{UI}/namespaces/default/workflows/dagrun%3Aetl%3Aexternal__2026-11-23T08%3A00%3A00%2B00%3A00/0190-run"
    assert f'href="{history}/history"' in html and f'href="{history}/pending-activities"' in html


def test_an_owned_run_lists_what_it_waits_for(wire_fixture):
    table = rows(render(live(view_from_the_wire(wire_fixture), [])))
    assert "extract | 2 | its retry delay | 2026-11-23 08:00:19 UTC | -" in table
    assert "fan[3] | 1 | a pool slot | 2026-11-23 08:00:03 UTC | db_pool" in table
    assert ("the run | - | the DAG's max_active_runs (the run is queued) | - | the DAG's max_active_runs are running"
            in table)


def test_pending_activities_show_their_retries_and_last_failure(wire_fixture):
    retrying = pending(None, activity_type="create_dag_run", state="scheduled", attempt=3, maximum_attempts=0,
                       worker_identity="default-worker", last_failure="connection refused", pid=None, host=None)
    table = rows(render(live(view_from_the_wire(wire_fixture), [retrying])))
    assert any(row.startswith("create_dag_run | - | scheduled | 3 (no limit) | default-worker") and
               row.endswith("connection refused") for row in table)


def test_executor_mode_shows_no_waits_section_and_every_value_is_escaped(wire_fixture):
    view = view_from_the_wire(wire_fixture, mode="executor", waits=[], attempts=[
        {"task_id": "<script>x</script>", "map_index": -1, "try_number": 1, "state": "failed", "queue": None,
         "started_at": "2026-11-23T08:00:01Z", "ended_at": "2026-11-23T08:00:02Z", "detail": "exit <1> & more"}])
    html = render(live(view, []))
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "exit &lt;1&gt; &amp; more" in html
    assert "Waiting for" not in html and "executor mode" in html


def test_a_workflow_that_does_not_answer_its_query_still_shows_its_status_and_why():
    html = render(live(None, [], status="COMPLETED", view_error="WorkflowQueryFailedError: no worker"))
    assert "COMPLETED" in html and "no worker" in html and 'http-equiv="refresh"' not in html


def test_a_run_without_a_workflow_says_so_naming_the_workflow_and_namespace(monkeypatch, temporal_address):
    monkeypatch.setenv("AIRFLOW__TEMPORAL__ADDRESS", temporal_address)
    page = dag_run_workflow_page(DAG, "manual__never-queued")
    assert "No Temporal workflow for this run: workflow dagrun:etl:manual__never-queued does not exist in " \
           "namespace &#x27;default&#x27;" in page


def test_an_unreachable_temporal_is_named_with_the_fix_and_the_workflow_linked(monkeypatch):
    monkeypatch.setenv("AIRFLOW__TEMPORAL__ADDRESS", "127.0.0.1:1")
    monkeypatch.setenv("AIRFLOW__TEMPORAL__RPC_TIMEOUT", "3")
    monkeypatch.setenv("AIRFLOW__TEMPORAL__UI_URL", "http://127.0.0.1:8233/")
    page = dag_run_workflow_page(DAG, "manual__1")
    assert "cannot reach Temporal at 127.0.0.1:1" in page
    assert 'href="http://127.0.0.1:8233/namespaces/default/workflows/dagrun%3Aetl%3Amanual__1"' in page


def test_the_ui_translations_gain_the_temporal_run_type_label_and_keep_everything_else():
    client = TestClient(locales)
    common = client.get("/en/common.json").json()
    assert common["runTypes"]["external"] == RUN_TYPE_LABELS["external"] == "Temporal"
    assert common["runTypes"]["manual"] == "Manual"
    assert client.get("/de/common.json").json()["runTypes"]["external"] == "Temporal"
    assert client.get("/en/dashboard.json").status_code == 200
    assert client.get("/en/..%2F..%2F..%2F..%2Fconfig.json").status_code == 404
    assert client.get("/xx/common.json").status_code == 404
