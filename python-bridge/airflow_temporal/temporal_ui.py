"""Links into the Temporal Web UI: the one place that knows its URL layout (the plugin's run tab, the
``airflow temporal`` commands and the test stack all link through here)."""
from __future__ import annotations

from urllib.parse import quote

from airflow_temporal.wire import workflow_id


def workflows_url(ui_url: str, namespace: str) -> str:
    """The Temporal UI's list of the workflows of ``namespace``."""
    return f"{ui_url.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows"


def workflow_url(ui_url: str, namespace: str, dag_id: str, run_id: str) -> str:
    """The Temporal UI page of a DagRun's workflow."""
    return f"{workflows_url(ui_url, namespace)}/{quote(workflow_id(dag_id, run_id), safe='')}"


def workflow_run_url(ui_url: str, namespace: str, dag_id: str, run_id: str, temporal_run_id: str,
                     tab: str = "history") -> str:
    """A tab of one execution of a DagRun's workflow: ``history`` (its events, each attempt's activity among
    them) or ``pending-activities``; the Temporal UI has no address for one activity."""
    return f"{workflow_url(ui_url, namespace, dag_id, run_id)}/{quote(temporal_run_id, safe='')}/{quote(tab)}"
