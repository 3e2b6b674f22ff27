"""
Airflow UI plugin: a "Temporal workflow" tab on every DagRun page.

Airflow's UI shows a run-page tab only for an external view with a ``url_route`` and renders its
href in a frame. The Temporal UI forbids being framed (``X-Frame-Options: SAMEORIGIN``), so the tab
frames a small page served by this plugin from Airflow's own origin, which names the run's
workflow and opens it in the Temporal UI.

The page asks for the same permission as the REST API's DagRun endpoints: read access to the DAG's
runs, for the user of the request's bearer token or, as for a framed page, of the UI session's
``_token`` cookie (Airflow's ``get_user``): 401 without either, 403 without the permission.
"""

from __future__ import annotations

from html import escape

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from airflow_temporal.temporal_ui import workflow_url
from airflow_temporal.wire import workflow_id

URL_PREFIX = "/temporal"


def _settings() -> tuple[str, str]:
    return (conf.get("temporal", "ui_url", fallback="http://localhost:8233"),
            conf.get("temporal", "namespace", fallback="default"))


async def requires_dag_run_read_access(request: Request) -> None:
    """Airflow's own check for ``GET /api/v2/dags/{dag_id}/dagRuns/...`` (``requires_access_dag``)."""
    # Imported here: every task process loads plugins (for macros), and this costs a second of imports.
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, requires_access_dag

    user = await get_user(request, None, await bearer_scheme(request))
    requires_access_dag("GET", DagAccessEntity.RUN)(request, user)


app = FastAPI(title="airflow-temporal", docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/dag-runs/{dag_id}/{run_id}", response_class=HTMLResponse,
         dependencies=[Depends(requires_dag_run_read_access)])
def dag_run_workflow_page(dag_id: str, run_id: str) -> str:
    ui_url, namespace = _settings()
    try:
        url = workflow_url(ui_url, namespace, dag_id, run_id)
    except ValueError as e:
        return f"<p>No Temporal workflow for this run: {escape(str(e))}</p>"
    wid = workflow_id(dag_id, run_id)
    return (
        "<!doctype html><html><body style=\"font-family: sans-serif; padding: 1rem\">"
        f"<p>This run's Temporal workflow is <code>{escape(wid)}</code> in namespace "
        f"<code>{escape(namespace)}</code>: one activity per task attempt.</p>"
        f"<p><a href=\"{escape(url)}\" target=\"_blank\" rel=\"noopener\">Open it in the Temporal UI</a></p>"
        "</body></html>"
    )


class TemporalPlugin(AirflowPlugin):
    name = "temporal"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Temporal workflow links"}]
    external_views = [
        {
            "name": "Temporal workflow",
            "href": f"{URL_PREFIX}/dag-runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "temporal",
        }
    ]
