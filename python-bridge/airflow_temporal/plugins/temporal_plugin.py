"""
Airflow UI plugin: a "Temporal workflow" tab on every DagRun page.

Airflow's UI shows a run-page tab only for an external view with a ``url_route`` and renders its
href in a frame. The Temporal UI forbids being framed (``X-Frame-Options: SAMEORIGIN``), so the tab
frames a page served by this plugin from Airflow's own origin: the run's workflow live, read through
its ``view`` query and Temporal's description of it (``live_view``), with links into the Temporal UI.

The page asks for the same permission as the REST API's DagRun endpoints: read access to the DAG's
runs, for the user of the request's bearer token or, as for a framed page, of the UI session's
``_token`` cookie (Airflow's ``get_user``): 401 without either, 403 without the permission.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

if TYPE_CHECKING:
    from airflow_temporal.config import TemporalSettings
    from airflow_temporal.executors.workflow_client import DagRunWorkflowClient

URL_PREFIX = "/temporal"
#: Where Airflow's UI fetches its translations (``{base}/static/i18n/locales/{lng}/{ns}.json``).
LOCALES_PREFIX = "/static/i18n/locales"
#: Labels for the run types this package adds. Airflow's UI labels a run by the key ``runTypes.<run_type>``
#: of its ``common`` namespace, with no fallback and no way for a plugin to add a key (docs/architecture.md, "Run type label").
RUN_TYPE_LABELS = {"external": "Temporal"}

_client: DagRunWorkflowClient | None = None
_client_lock = threading.Lock()


def _workflows(settings: TemporalSettings) -> DagRunWorkflowClient:
    """One client per api-server process, connected on first use (the executor's, so its TLS, API key and codec)."""
    # Imported here: every task process loads plugins (for macros), and Temporal's client costs a second of imports.
    from airflow_temporal.executors.workflow_client import DagRunWorkflowClient

    global _client
    with _client_lock:
        if _client is None or _client.settings != settings:
            if _client is not None:
                _client.stop()
            _client = DagRunWorkflowClient(settings)
            _client.start()
        return _client


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
    from airflow_temporal.config import ConfigError, TemporalSettings
    from airflow_temporal.executors.workflow_client import TemporalUnavailable, WorkflowClosed
    from airflow_temporal.plugins.live_view import render_live_run, unavailable_page
    from airflow_temporal.temporal_ui import workflow_url

    try:
        settings = TemporalSettings.from_conf(conf)
    except ConfigError as e:
        return unavailable_page(f"The [temporal] settings of this api-server are unusable: {e}")
    try:
        url = workflow_url(settings.ui_url, settings.namespace, dag_id, run_id)
    except ValueError as e:
        return unavailable_page(f"No Temporal workflow for this run: {e}")
    try:
        live = _workflows(settings).live_run(dag_id, run_id)
    except WorkflowClosed as e:
        return unavailable_page(
            f"No Temporal workflow for this run: {e}. A run whose tasks ran on another executor, or none of whose "
            "tasks was queued yet, has none; a closed workflow is deleted after the namespace's retention period.",
            link=url)
    except TemporalUnavailable as e:
        return unavailable_page(str(e), link=url)
    except Exception as e:  # an RPC error or a timeout: the page says so instead of failing the frame
        return unavailable_page(f"Temporal did not describe the workflow of this run: {type(e).__name__}: {e}", link=url)
    return render_live_run(live, ui_url=settings.ui_url, namespace=settings.namespace, dag_id=dag_id, run_id=run_id)


locales = FastAPI(title="airflow-temporal locales", docs_url=None, redoc_url=None, openapi_url=None)


@locales.get("/{lng}/{ns}.json")
def locale_file(lng: str, ns: str) -> Response:
    """Airflow's own translation file, with :data:`RUN_TYPE_LABELS` added to the ``common`` namespace.

    Mounted (as plugins are, before Airflow's ``/static``) in front of the UI's translations: every other
    file is served unchanged, and a label Airflow itself has for a run type is kept.
    """
    import json
    from pathlib import Path

    import airflow

    root = (Path(airflow.__file__).parent / "ui" / "dist" / "i18n" / "locales").resolve()
    path = (root / lng / f"{ns}.json").resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status_code=404)
    if ns != "common":
        return FileResponse(path)
    translations = json.loads(path.read_text(encoding="utf-8"))
    run_types = translations.setdefault("runTypes", {})
    for run_type, label in RUN_TYPE_LABELS.items():
        run_types.setdefault(run_type, label)
    return JSONResponse(translations)


class TemporalPlugin(AirflowPlugin):
    name = "temporal"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Temporal workflow view"},
                    {"app": locales, "url_prefix": LOCALES_PREFIX, "name": "Temporal run type label"}]
    external_views = [
        {
            "name": "Temporal workflow",
            "href": f"{URL_PREFIX}/dag-runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "temporal",
        }
    ]
