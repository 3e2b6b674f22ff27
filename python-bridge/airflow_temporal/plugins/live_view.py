"""
The HTML of the "Temporal workflow" tab: a DagRun's workflow (``LiveRun``) as a few compact tables.

Everything shown comes from the workflow's ``view`` query (its attempts and, for a Temporal-owned run,
what it waits for) and from Temporal's description of the workflow (status, pending activities with
their worker, heartbeat and retries); every value is escaped. Only the standard library here: the
plugin module that imports this is loaded by every task process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING

from airflow_temporal.temporal_ui import workflow_run_url, workflow_url

if TYPE_CHECKING:
    from airflow_temporal.executors.workflow_client import LiveRun, PendingActivity

# The frame sits inside Airflow's page, which brings its own colours: plain, small, neutral.
_STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 0.75rem; color: #1f2328; }
h2 { font-size: 14px; margin: 1rem 0 0.35rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; }
.state { border-radius: 8px; padding: 0 6px; white-space: nowrap; background: #eaeef2; }
.state.success, .state.completed, .state.finished { background: #dafbe1; }
.state.failed, .state.upstream_failed, .state.terminated, .state.timed_out { background: #ffebe9; }
.state.running, .state.started, .state.queued { background: #ddf4ff; }
.state.up_for_retry, .state.up_for_reschedule, .state.deferred, .state.awaiting_input, .state.waiting,
.state.scheduled { background: #fff8c5; }
.muted { color: #656d76; }
.detail { max-width: 40rem; overflow-wrap: anywhere; }
"""

#: What each wait reason means, in the words of Airflow's own UI where it has them.
WAIT_REASONS = {
    "max_active_runs": "the DAG's max_active_runs (the run is queued)",
    "max_active_tasks": "room under the DAG's max_active_tasks",
    "pool": "a pool slot",
    "retry_delay": "its retry delay",
    "reschedule": "its reschedule date (sensor)",
    "trigger": "its trigger (deferred, run by Airflow's triggerer)",
    "human_input": "a human's answer (Human-in-the-loop)",
}


def page(body: str, *, refresh: bool = False) -> str:
    """A whole page around ``body``; reloads itself every 10 s while the workflow runs."""
    meta = '<meta http-equiv="refresh" content="10">' if refresh else ""
    return (f'<!doctype html><html><head><meta charset="utf-8">{meta}<style>{_STYLE}</style></head>'
            f"<body>{body}</body></html>")


def unavailable_page(message: str, *, link: str | None = None) -> str:
    """The page for a run without a readable workflow: ``message`` says why."""
    body = f"<p>{escape(message)}</p>"
    if link:
        body += f'<p><a href="{escape(link)}" target="_blank" rel="noopener">Open the Temporal UI</a></p>'
    return page(body)


def render_live_run(live: LiveRun, *, ui_url: str, namespace: str, dag_id: str, run_id: str) -> str:
    history = workflow_run_url(ui_url, namespace, dag_id, run_id, live.temporal_run_id)
    pending_tab = workflow_run_url(ui_url, namespace, dag_id, run_id, live.temporal_run_id, "pending-activities")
    view = live.view
    parts = [_summary(live, workflow_url(ui_url, namespace, dag_id, run_id), namespace)]
    if view is None:
        parts.append(f'<p class="muted">The workflow did not answer its <code>view</code> query, so its attempts '
                     f"are not shown: {escape(live.view_error or 'no answer')}</p>")
    else:
        if view.mode == "owned":
            parts.append(_waits(view.waits, live.status))
        parts.append(_attempts(view, live.pending, dag_id, run_id, history))
    parts.append(_pending(live.pending, pending_tab))
    return page("".join(parts), refresh=live.status == "RUNNING")


def _summary(live: LiveRun, link: str, namespace: str) -> str:
    view = live.view
    mode = ("Temporal-owned run (the workflow decides what runs)" if view and view.mode == "owned"
            else "executor mode (Airflow's scheduler decides what runs)" if view else live.workflow_type)
    rows = [
        ("Workflow", f'<a href="{escape(link)}" target="_blank" rel="noopener"><code>{escape(live.workflow_id)}'
                     f"</code></a> in namespace <code>{escape(namespace)}</code>"),
        ("Status", f"{_state(live.status.lower(), live.status)}"
                   + (f" · phase {_state(view.phase)}" if view else "") + f" · {escape(mode)}"),
        ("Started", _time(live.started_at) + (f" · closed {_time(live.closed_at)}" if live.closed_at else "")),
    ]
    if view and view.error:
        rows.append(("Error", f'<span class="detail">{escape(view.error)}</span>'))
    return _table(("", ""), rows, header=False)


def _waits(waits: Sequence, status: str) -> str:
    head = "<h2>Waiting for</h2>"
    if not waits:
        return head + ('<p class="muted">Nothing besides the attempts running.</p>' if status == "RUNNING"
                       else '<p class="muted">Nothing: the workflow is closed.</p>')
    rows = [(_label(w.task_id, w.map_index) if w.task_id else "<em>the run</em>",
             str(w.try_number) if w.task_id else "",
             escape(WAIT_REASONS.get(w.reason, w.reason)), _time(w.until), escape(w.detail or ""))
            for w in waits]
    return head + _table(("Task", "Try", "Waits for", "Until / next look", "Detail"), rows)


def _attempts(view, pending: Sequence[PendingActivity], dag_id: str, run_id: str, history: str) -> str:
    # A running attempt's activity heartbeats "dag/run/task[3] try 2": its worker and last heartbeat.
    by_runner = {p.runner: p for p in pending if p.runner}
    rows = []
    for a in view.attempts:
        live = by_runner.get(f"{dag_id}/{run_id}/{a.key.label()}") if a.state == "running" else None
        worker = (f'{escape(live.worker_identity)}<br><span class="muted">pid {escape(str(live.pid))} on '
                  f"{escape(str(live.host))}</span>" if live and live.pid else escape(live.worker_identity)
                  if live else "")
        rows.append((
            escape(a.task_id), str(a.map_index) if a.map_index >= 0 else "", str(a.try_number), _state(a.state),
            escape(a.queue or ""), worker, _time(a.started_at), _time(a.ended_at),
            _time(live.last_heartbeat_at) if live else "", f'<span class="detail">{escape(a.detail or "")}</span>',
            f'<a href="{escape(history)}" target="_blank" rel="noopener">history</a>' if a.started_at else "",
        ))
    head = f"<h2>Attempts ({len(view.attempts)})</h2>"
    if view.omitted_attempts:
        head += f'<p class="muted">{view.omitted_attempts} older attempts are not listed.</p>'
    if not rows:
        return head + '<p class="muted">No attempt started yet.</p>'
    return head + _table(("Task", "Map index", "Try", "State", "Queue", "Worker", "Started", "Ended",
                          "Last heartbeat", "Detail", "Temporal"), rows)


def _pending(pending: Sequence[PendingActivity], link: str) -> str:
    head = (f'<h2>Pending activities ({len(pending)}) <a href="{escape(link)}" target="_blank" rel="noopener" '
            'style="font-weight: normal">in the Temporal UI</a></h2>')
    if not pending:
        return head + '<p class="muted">None.</p>'
    rows = [(
        escape(p.activity_type), escape(p.runner or ""), _state(p.state),
        f"{p.attempt} of {p.maximum_attempts}" if p.maximum_attempts else f"{p.attempt} (no limit)",
        escape(p.worker_identity), _time(p.last_started_at), _time(p.last_heartbeat_at), _time(p.next_attempt_at),
        f'<span class="detail">{escape(p.last_failure or "")}</span>',
    ) for p in pending]
    return head + _table(("Activity", "Runs", "State", "Attempt", "Worker", "Last started", "Last heartbeat",
                          "Next attempt", "Last failure"), rows)


def _table(headers: Iterable[str], rows: Iterable[Sequence[str]], *, header: bool = True) -> str:
    """Cells are HTML already escaped by the caller."""
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>" if header else ""
    body = "".join(
        "<tr>" + "".join(f"<th>{cell}</th>" if not header and i == 0 else f"<td>{cell}</td>"
                         for i, cell in enumerate(row)) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def _label(task_id: str, map_index: int) -> str:
    return escape(task_id + (f"[{map_index}]" if map_index >= 0 else ""))


def _state(state: str, text: str | None = None) -> str:
    return f'<span class="state {escape(state)}">{escape(text or state)}</span>'


def _time(at: datetime | None) -> str:
    if at is None:
        return ""
    return escape(at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
