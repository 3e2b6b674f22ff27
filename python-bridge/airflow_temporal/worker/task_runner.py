"""
``python -m airflow_temporal.worker.task_runner --json-path FILE``: run one attempt of a Temporal-owned DagRun.

The worker JAR starts this for every attempt of an ``OwnedDagRun`` workflow. FILE (mode 0600) holds the
``OwnedTaskWorkload`` (docs/wire-contract.md) the workflow sent, Airflow's ``ExecuteTask`` workload
without its token, so that no credential passes through Temporal, plus the ``token`` the worker host
signed for this try (``airflow_temporal.worker.token_minter``: this process never sees the signing key). It
completes the workload as the scheduler's ``ExecuteTask.make`` does — the log path rendered from
``[logging] log_filename_template`` — and runs it as ``python -m airflow.sdk.execution_time.execute_workload``
does. It never reads the metadata DB, and never prints or logs the token.

Exit codes: 2 when the attempt cannot start (unreadable or malformed FILE, unsupported
``contract_version``, no token); otherwise those of ``execute_workload``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_temporal import external_runs
from airflow_temporal.worker import supervisor_exit
from airflow_temporal.wire import CONTRACT_VERSION

if TYPE_CHECKING:
    from airflow.executors.workloads import ExecuteTask
    from pydantic import ValidationError

EXIT_CANNOT_START = 2


class CannotStart(Exception):
    """The attempt cannot start; the message is one line naming the problem."""


def read_owned_workload(path: str) -> dict[str, Any]:
    """The ``OwnedTaskWorkload`` in ``path``, as JSON; its fields are checked by :func:`execute_task`."""
    try:
        with open(path) as f:
            owned = json.load(f)
    except OSError as e:
        raise CannotStart(f"cannot read the workload file {path}: {e.strerror or e}") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise CannotStart(f"the workload file {path} is not JSON: {e}") from None
    if not isinstance(owned, dict):
        raise CannotStart(f"the workload file {path} holds a JSON {type(owned).__name__}, not an object")
    version = owned.get("contract_version")
    if version != CONTRACT_VERSION:
        raise CannotStart(
            f"contract_version {version} of {path} is not supported (this airflow-temporal speaks "
            f"{CONTRACT_VERSION}); deploy matching versions of airflow-temporal and the worker JAR"
        )
    return owned


def execute_task(owned: Mapping[str, Any]) -> ExecuteTask:
    """Airflow's ``ExecuteTask`` for an ``OwnedTaskWorkload``, as ``ExecuteTask.make`` builds it from a TI row."""
    from airflow.executors.workloads import ExecuteTask, TaskInstanceDTO
    from airflow.utils.helpers import log_filename_template_renderer
    from pydantic import ValidationError

    try:
        ti = TaskInstanceDTO.model_validate(owned.get("ti"))
    except ValidationError as e:
        raise CannotStart(_invalid(e, ("ti",))) from None
    try:
        log_path = log_filename_template_renderer()(ti=ti)
    except AttributeError as e:  # a pre-Jinja template reads ti.logical_date, which only the DB row has
        raise CannotStart(
            f"[logging] log_filename_template needs a field the workload does not carry ({e}); "
            "use a Jinja template such as Airflow's default"
        ) from None
    token = owned.get("token")
    if not isinstance(token, str) or not token:
        raise CannotStart("the workload file has no token: the worker signs one per try into the file it "
                          "writes (see airflow_temporal.worker.token_minter); run this through the worker")
    try:
        return ExecuteTask(
            ti=ti,
            dag_rel_path=owned.get("dag_rel_path"),
            bundle_info=owned.get("bundle_info"),
            log_path=log_path,
            token=token,
        )
    except ValidationError as e:
        raise CannotStart(_invalid(e)) from None


def _invalid(error: ValidationError, within: tuple[str, ...] = ()) -> str:
    # Field and message only: pydantic's own text quotes the input values.
    problems = "; ".join(f"{'.'.join(map(str, (*within, *err['loc'])))}: {err['msg']}" for err in error.errors())
    return f"not a valid OwnedTaskWorkload: {problems}"


def main(argv: list[str] | None = None) -> None:
    # The run's run_type is 'external', which stock Airflow's models reject unless the post-import hook
    # is on sys.meta_path before they are imported. A wheel install's .pth has put it there already
    # (install() is idempotent); an editable install without `install-pth` has not.
    external_runs.install()
    parser = argparse.ArgumentParser(
        prog="python -m airflow_temporal.worker.task_runner",
        description="Run one attempt of a Temporal-owned DagRun from an OwnedTaskWorkload and the token the worker signed.",
    )
    parser.add_argument("--json-path", required=True, help="Path of the OwnedTaskWorkload JSON file")
    args = parser.parse_args(argv)
    try:
        workload = execute_task(read_owned_workload(args.json_path))
    except CannotStart as e:
        parser.exit(EXIT_CANNOT_START, f"{parser.prog}: error: {e}\n")

    from airflow.sdk.execution_time.execute_workload import execute_workload

    supervisor_exit.install()
    execute_workload(workload)


if __name__ == "__main__":
    main()
