"""
``python -m airflow_temporal.worker.dag_run_listeners``: listener plugins' DagRun hooks for Temporal-owned runs.

Airflow's scheduler calls ``on_dag_run_running``, ``on_dag_run_success`` and ``on_dag_run_failed``
(``DagRun.notify_dagrun_state_changed``) in its own process as it starts and ends its runs. Owned runs are
started and ended by the worker's ``create_dag_run``, ``resume_dag_run``, ``finish_dag_run`` and
``time_out_dag_run`` steps; after each transition it made, the worker hands it to this process, which calls the
same hooks of the same plugins (``get_listener_manager()``) with the run loaded from Airflow's DB and its DAG
attached, as the scheduler hands them.

Role: this process reads Airflow's metadata DB, so the worker starts it with its own environment (as the token
minter) and never as a task runner: no task process descends from it. It writes nothing (its session is rolled
back), and a listener's exception is logged and swallowed, as ``notify_dagrun_state_changed`` does.

Protocol on stdin/stdout, one JSON line each way per notification:
``{"dag_id", "run_id", "state": "running" | "success" | "failed", "msg"}`` in, ``{"called": true|false}`` (false:
the run is gone) or ``{"error": MESSAGE}`` out. ``msg`` is the scheduler's: ``started``, ``success``, ``timed_out``;
null for a run that ended failed, which gets ``update_state``'s ``all_tasks_deadlocked`` when task instances are
left unfinished and ``task_failure`` otherwise. Exits at EOF on stdin. When no listener plugin implements a DagRun
hook (most installations), it answers the first request with ``{"called": false, "dag_run_hooks": false}`` and
exits: plugins are loaded once per process, as in the scheduler, so none can come before the worker restarts, and
the worker starts this process no more. That costs one start per worker, not a process holding the DB URL for
the worker's life.
"""

from __future__ import annotations

import itertools
import json
import logging
import sys

from airflow_temporal.worker import json_lines

log = logging.getLogger(__name__)

HOOKS = ("on_dag_run_running", "on_dag_run_success", "on_dag_run_failed")
NO_HOOKS = {"called": False, "dag_run_hooks": False}


def dag_run_hooks_installed() -> bool:
    """Whether a listener plugin implements one of the DagRun hooks (plugins load once, at the first call)."""
    from airflow.listeners.listener import get_listener_manager

    hook = get_listener_manager().hook
    return any(getattr(hook, name).get_hookimpls() for name in HOOKS)


def notify(dag_id: str, run_id: str, state: str, msg: str | None) -> bool:
    """Calls the hook for `state` on every listener plugin; False when the run is gone."""
    from sqlalchemy import select

    from airflow import settings
    from airflow.listeners.listener import get_listener_manager
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.utils.state import State

    manager = get_listener_manager()
    hook = {"running": manager.hook.on_dag_run_running, "success": manager.hook.on_dag_run_success,
            "failed": manager.hook.on_dag_run_failed}[state]
    session = settings.Session()
    try:
        dag_run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
        if dag_run is None:
            return False
        dag_run.dag = DBDagBag().get_dag_for_run(dag_run, session=session)
        if msg is None:
            unfinished = any(ti.state in State.unfinished for ti in dag_run.get_task_instances(session=session))
            msg = "all_tasks_deadlocked" if unfinished else "task_failure"
        try:
            hook(dag_run=dag_run, msg=msg)
        except Exception:
            log.exception("Error while calling listener")
        return True
    finally:
        session.rollback()
        session.close()


def answer(line: str) -> dict:
    request = json.loads(line)
    return {"called": notify(request["dag_id"], request["run_id"], request["state"], request.get("msg"))}


def main() -> None:
    from airflow_temporal.worker.token_minter import make_nondumpable

    make_nondumpable()  # it holds the DB URL: no other process of the user reads its memory or environment
    replies = json_lines.replies_stream()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    if dag_run_hooks_installed():
        json_lines.serve(answer, sys.stdin, replies)
    else:  # nothing to call, ever: the first request learns it, and the worker starts this process no more
        json_lines.serve(lambda line: NO_HOOKS, itertools.islice(sys.stdin, 1), replies)


if __name__ == "__main__":
    main()
