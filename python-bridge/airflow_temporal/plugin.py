"""Airflow UI plugin: a link from every DagRun to its workflow in the Temporal UI."""

from __future__ import annotations

from urllib.parse import quote

from airflow.configuration import conf
from airflow.plugins_manager import AirflowPlugin

from airflow_temporal.wire import WORKFLOW_ID_PREFIX


def run_link_template(ui_url: str, namespace: str) -> str:
    """An href the Airflow UI fills with the URL-encoded ``{DAG_ID}`` and ``{RUN_ID}`` of a run."""
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows/{WORKFLOW_ID_PREFIX}{{DAG_ID}}:{{RUN_ID}}"


class TemporalPlugin(AirflowPlugin):
    name = "temporal"
    external_views = [
        {
            "name": "Temporal workflow",
            "href": run_link_template(
                conf.get("temporal", "ui_url", fallback="http://localhost:8233"),
                conf.get("temporal", "namespace", fallback="default"),
            ),
            "destination": "dag_run",
        }
    ]
