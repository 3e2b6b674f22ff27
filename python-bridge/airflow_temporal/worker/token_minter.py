"""
``python -m airflow_temporal.worker.token_minter``: signs the Execution API tokens of Temporal-owned tries.

The worker JAR starts this once per host, with the worker's own environment, when the first
Temporal-owned try arrives. It is the only process on a worker host that reads Airflow's signing key
(``[api_auth] jwt_secret`` or ``jwt_private_key_path``): task runners start from an environment without
it (``RunnerEnvironment`` in the worker), since the same key signs every Airflow token, REST API ones
included. The worker puts the token into the try's workload file (mode 0600), which only that try's
runner reads. This process is not an ancestor of any task process, and it marks itself non-dumpable as
Airflow's supervisor does, so processes of the same user cannot read its memory or environment.

Protocol on stdin/stdout, one line each way per request: a task instance id (a UUID) in,
``{"token": JWT}`` or ``{"error": MESSAGE}`` out. The token is the one the scheduler puts in an
``ExecuteTask`` workload (``ExecuteTask.generate_token``: scope ``workload``, valid for
``[scheduler] task_queued_timeout``), signed by Airflow's own generator. Exits at EOF on stdin.
"""

from __future__ import annotations

import ctypes
import sys
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from airflow_temporal.worker import json_lines

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.tokens import JWTGenerator

_PR_SET_DUMPABLE = 4


class CannotSign(Exception):
    """No token can be signed; the message names the setting to fix."""


def jwt_generator() -> JWTGenerator:
    """The generator the scheduler signs workload tokens with (``BaseExecutor.jwt_generator``).

    Called on the class, not on an executor: ``BaseExecutor.__init__`` would make up a random
    ``jwt_secret`` when none is configured, and the api-server refuses tokens signed with that.
    """
    from airflow.executors.base_executor import BaseExecutor

    try:
        return BaseExecutor.jwt_generator.func(None)
    except ValueError as e:  # raised by get_signing_key when the secret is empty
        raise CannotSign(
            f"cannot sign the task's Execution API token ({e}): set [api_auth] jwt_secret "
            "(AIRFLOW__API_AUTH__JWT_SECRET) to the api-server's value in the worker's environment, "
            "or [api_auth] jwt_private_key_path"
        ) from None


def answer(line: str, generator: JWTGenerator | CannotSign) -> dict[str, str]:
    """The reply to one request line."""
    from airflow.executors.workloads import ExecuteTask

    ti_id = line.strip()
    try:
        uuid.UUID(ti_id)
    except ValueError:
        return {"error": f"not a task instance id (a UUID): {ti_id[:80]!r}"}
    if isinstance(generator, CannotSign):
        return {"error": str(generator)}
    return {"token": ExecuteTask.generate_token(ti_id, generator)}


def serve(requests: Iterable[str], replies: TextIO) -> None:
    try:
        generator: JWTGenerator | CannotSign = jwt_generator()
    except CannotSign as e:
        generator = e  # every request gets the reason: the try fails with it in the worker log
    json_lines.serve(lambda line: answer(line, generator), requests, replies)


def make_nondumpable() -> None:
    """No ptrace, core dump or /proc/PID/{mem,environ} for other processes of this user."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


def main() -> None:
    make_nondumpable()
    replies = json_lines.replies_stream()
    serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
