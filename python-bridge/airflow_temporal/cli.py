"""``airflow temporal ...``: the executor's CLI commands (vended through ``get_cli_commands``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from airflow.cli.cli_config import ActionCommand, Arg, GroupCommand, lazy_load_command

if TYPE_CHECKING:
    import argparse


def get_temporal_cli_commands() -> list[GroupCommand]:
    """Listed under ``cli`` in the provider info, so Airflow loads it without importing the executor."""
    return [GroupCommand(
        name="temporal",
        help="Inspect the TemporalExecutor's connection and DagRun workflows",
        subcommands=[
            ActionCommand(
                name="check",
                help="Check that Temporal is reachable with the settings of the temporal section",
                func=lazy_load_command("airflow_temporal.cli.check"),
                args=(),
            ),
            ActionCommand(
                name="workflow",
                help="Print the workflow id and Temporal UI link of a DagRun",
                func=lazy_load_command("airflow_temporal.cli.workflow"),
                args=(Arg(("dag_id",), help="The DAG id"), Arg(("run_id",), help="The DagRun's run id")),
            ),
        ],
    )]


def check(args: argparse.Namespace) -> None:
    from airflow.configuration import conf

    from airflow_temporal.config import ConfigError, TemporalSettings
    from airflow_temporal.workflow_client import DagRunWorkflowClient

    try:
        settings = TemporalSettings.from_conf(conf)
    except ConfigError as e:
        sys.exit(f"error: {e}")
    client = DagRunWorkflowClient(settings)
    client.start()
    try:
        print(client.check())
    except Exception as e:
        sys.exit(f"error: {e}")
    finally:
        client.stop()


def workflow(args: argparse.Namespace) -> None:
    from urllib.parse import quote

    from airflow.configuration import conf

    from airflow_temporal.config import TemporalSettings
    from airflow_temporal.wire import workflow_id

    settings = TemporalSettings.from_conf(conf)
    wid = workflow_id(args.dag_id, args.run_id)
    print(wid)
    print(f"{settings.ui_url}/namespaces/{quote(settings.namespace, safe='')}/workflows/{quote(wid, safe=':')}")
