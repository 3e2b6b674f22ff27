"""A `[core] hostname_callable` for stacks whose workers stand for hosts of their own on one machine.

Airflow records each try's hostname from this callable (in the task runner) and reads the try's log
from `http://{hostname}:{[logging] worker_log_server_port}/log/...`: a worker given 127.0.0.2 here and
listening there is, to Airflow, another host than one given 127.0.0.3.
"""
from __future__ import annotations

import os

HOSTNAME_ENV = "AT_WORKER_HOSTNAME"


def from_environment() -> str:
    try:
        return os.environ[HOSTNAME_ENV]
    except KeyError:
        raise RuntimeError(f"{HOSTNAME_ENV} is not set: the stack sets it for workers with a WorkerSpec.host") from None
