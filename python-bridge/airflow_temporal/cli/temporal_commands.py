"""``airflow temporal ...``: the executor's CLI commands (vended through ``get_cli_commands``)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from airflow.cli.cli_config import ARG_LOGICAL_DATE, ActionCommand, Arg, GroupCommand, lazy_load_command

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from airflow_temporal.config import TemporalSettings
    from airflow_temporal.wire import OwnedDagRunProgress, OwnedDagRunRequest
    from airflow_temporal.executors.workflow_client import DagRunWorkflowClient

#: States of an owned run after which its progress no longer changes.
FINAL_STATES = ("success", "failed", "rejected")


def get_temporal_cli_commands() -> list[GroupCommand]:
    """Listed under ``cli`` in the provider info, so Airflow loads it without importing the executor."""
    return [GroupCommand(
        name="temporal",
        help="Inspect the TemporalExecutor's connection and DagRun workflows; start Temporal-owned runs",
        subcommands=[
            ActionCommand(
                name="check",
                help="Check that Temporal is reachable with the settings of the temporal section",
                func=lazy_load_command("airflow_temporal.cli.temporal_commands.check"),
                args=(),
            ),
            ActionCommand(
                name="workflow",
                help="Print the workflow id and Temporal UI link of a DagRun",
                func=lazy_load_command("airflow_temporal.cli.temporal_commands.workflow"),
                args=(Arg(("dag_id",), help="The DAG id"), Arg(("run_id",), help="The DagRun's run id")),
            ),
            ActionCommand(
                name="trigger",
                help="Start a Temporal-owned DagRun (run_type 'external'): a workflow creates and runs it, "
                     "not the scheduler",
                func=lazy_load_command("airflow_temporal.cli.temporal_commands.trigger"),
                args=(
                    Arg(("dag_id",), help="The DAG id"),
                    Arg(("-c", "--conf"), help="The run's conf, a JSON object"),
                    ARG_LOGICAL_DATE,
                    Arg(("-r", "--run-id"), help="The run id (default: external__ and the trigger time in UTC)"),
                    Arg(("--wait",), action="store_true",
                        help="Print the run's progress until it ends; exit 0 on success, 1 on failure"),
                    Arg(("--poll-interval",), type=float, default=2.0, metavar="SECONDS",
                        help="Seconds between two progress queries (default: 2)"),
                ),
            ),
        ],
    )]


def _settings() -> TemporalSettings:
    from airflow.configuration import conf

    from airflow_temporal.config import ConfigError, TemporalSettings

    try:
        return TemporalSettings.from_conf(conf)
    except ConfigError as e:
        sys.exit(f"error: {e}")


def _temporal_ui_url(settings: TemporalSettings, dag_id: str, run_id: str) -> str:
    from airflow_temporal.temporal_ui import workflow_url

    return workflow_url(settings.ui_url, settings.namespace, dag_id, run_id)


def check(args: argparse.Namespace) -> None:
    from airflow_temporal.executors.workflow_client import DagRunWorkflowClient

    client = DagRunWorkflowClient(_settings())
    client.start()
    try:
        print(client.check())
    except Exception as e:
        sys.exit(f"error: {e}")
    finally:
        client.stop()


def workflow(args: argparse.Namespace) -> None:
    from airflow_temporal.wire import workflow_id

    print(workflow_id(args.dag_id, args.run_id))
    print(_temporal_ui_url(_settings(), args.dag_id, args.run_id))


def trigger(args: argparse.Namespace) -> None:
    """Start an owned run (and follow it with --wait); ends the process itself, see below."""
    try:
        _trigger(args)
        code: int | str | None = 0
    except SystemExit as e:
        code = e.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # temporalio's Rust threads can still call into Python while the interpreter finalizes, which
    # now and then aborts the process (PyGILState_Release ... finalizing) after the work is done and
    # reported: this one-shot command exits without interpreter finalization.
    os._exit(code or 0)


def _trigger(args: argparse.Namespace) -> None:
    from airflow.utils.helpers import build_airflow_dagrun_url
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError

    from airflow_temporal.executors.workflow_client import DagRunWorkflowClient, RunAlreadyStarted, WorkflowClosed

    request = _owned_run_request(args)  # every argument problem is reported before Temporal is contacted
    if args.poll_interval <= 0:
        sys.exit(f"error: --poll-interval must be positive, not {args.poll_interval}")
    settings = _settings()
    sys.stdout.reconfigure(line_buffering=True)  # progress must show while waiting, through a pipe too
    run = f"run {request.run_id} of DAG {request.dag_id}"
    client = DagRunWorkflowClient(settings)
    client.start()
    try:
        if refusal := _params_refusal(request.dag_id, request.conf):
            sys.exit(f"error: {run} was refused: {refusal}")
        try:
            wid = client.start_owned_run(request)
        except RunAlreadyStarted as e:
            sys.exit(f"error: {e}: pick another --run-id")
        except Exception as e:
            sys.exit(f"error: {e}")
        print(f"Started {run}")
        print(f"  workflow:    {wid}")
        print(f"  Temporal UI: {_temporal_ui_url(settings, request.dag_id, request.run_id)}")
        updates = _progress_updates(client, settings, request, args.poll_interval)
        # The workflow checks the request (DAG, conf, pools, ...) while 'creating': report a refusal now.
        progress = next(p for p in updates if p.state != "creating")
        if progress.state == "rejected":
            sys.exit(f"error: {run} was rejected: {progress.error}")
        print(f"  Airflow UI:  {build_airflow_dagrun_url(request.dag_id, request.run_id)}")
        print(_progress_line(progress))
        if not args.wait:
            return
        while progress.state not in FINAL_STATES:
            progress = next(updates)
            print(_progress_line(progress))
        if progress.state != "success":
            sys.exit(f"{run} ended {progress.state}" + (f": {progress.error}" if progress.error else ""))
    except (WorkflowClosed, WorkflowQueryFailedError, RPCError) as e:
        sys.exit(f"error: {run}: {e}")
    except KeyboardInterrupt:
        sys.exit(f"\nstopped waiting; {run} goes on in Temporal")
    finally:
        client.stop()


def _owned_run_request(args: argparse.Namespace) -> OwnedDagRunRequest:
    import json
    from datetime import datetime, timezone

    from airflow.exceptions import AirflowConfigException
    from airflow.utils.platform import getuser

    from airflow_temporal.wire import owned_dag_run_request

    conf = None
    if args.conf is not None:
        try:
            conf = json.loads(args.conf)
        except json.JSONDecodeError as e:
            sys.exit(f"error: --conf is not valid JSON: {e}")
    try:
        user = getuser()
    except AirflowConfigException:  # as `airflow dags trigger`: no user name rather than no run
        user = None
    run_after = datetime.now(timezone.utc)
    try:
        request = owned_dag_run_request(
            dag_id=args.dag_id,
            run_id=args.run_id,
            conf=conf,
            logical_date=args.logical_date or run_after,
            run_after=run_after,
            triggered_by="cli",
            triggering_user_name=user,
        )
    except ValueError as e:
        sys.exit(f"error: {e}")
    return request


def _params_refusal(dag_id: str, conf: dict | None) -> str | None:
    """Why Airflow would refuse this conf for the DAG's latest version (a required param without a value, a
    schema violation), in Airflow's own words; None when it would not, or when the DAG is unknown (the
    workflow refuses that, naming it). The check of `DAG.create_dagrun`, which `airflow dags trigger` and the
    REST API's trigger run."""
    from airflow.models.dagbag import DBDagBag
    from airflow.utils.session import create_session

    from airflow_temporal.params import params_refusal

    with create_session() as session:
        dag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
    return None if dag is None else params_refusal(dag.params, conf)


def _progress_updates(
    client: DagRunWorkflowClient, settings: TemporalSettings, request: OwnedDagRunRequest, poll_interval: float
) -> Iterator[OwnedDagRunProgress]:
    """Poll the run's progress; yield it whenever its state, task-state counts or running attempts change."""
    import time

    from airflow_temporal.executors.workflow_client import is_transient, is_workflow_task_retrying

    last = None
    hinted: set[str] = set()
    while True:
        try:
            progress = client.owned_run_progress(request.dag_id, request.run_id)
        except Exception as e:
            if is_workflow_task_retrying(e):
                # Temporal retries a failed workflow task (e.g. a worker that was too slow under load): the
                # run goes on once one succeeds. The worker's log says why it failed.
                kind, hint = "retrying", (f"the run's workflow task failed and Temporal is retrying it ({e}); "
                                          f"the worker's log says why. Still waiting.")
            elif is_transient(e):
                # A query is answered by a worker: without one it times out, and the run waits for one.
                kind, hint = "unanswered", (f"no answer from the run's workflow yet ({e}); is a worker polling task "
                                            f"queue {settings.task_queue!r} of namespace {settings.namespace!r}? "
                                            f"Still waiting.")
            else:
                raise
            if kind not in hinted:
                print(hint, file=sys.stderr)
                hinted.add(kind)
        else:
            current = (progress.state, progress.task_states, progress.running)
            if current != last:
                last = current
                yield progress
        time.sleep(poll_interval)


def _progress_line(progress: OwnedDagRunProgress) -> str:
    """E.g. ``running: success=2 running=1 none=1 | validate try 1``."""
    from airflow.utils.state import State

    # Finished states first, then those in flight, then "none" (not started): reads as the run advances.
    states = sorted(progress.task_states, key=lambda state: (state == "none", state not in State.finished, state))
    counts = " ".join(f"{state}={progress.task_states[state]}" for state in states)
    line = f"{progress.state}: {counts}" if counts else progress.state
    return f"{line} | {', '.join(progress.running)}" if progress.running else line
