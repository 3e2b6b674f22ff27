"""
``python -m airflow_temporal.worker.log_server --worker-pid PID [--host ADDRESS]``: the worker host's task log server.

Airflow's api-server reads the log of a running try (or of a finished one it finds neither on its
disk nor in remote logging) from ``http://{ti.hostname}:{[logging] worker_log_server_port}/log/...``,
signing each request with ``[api] secret_key``. Celery and Edge workers answer with Airflow's own log
server (``airflow.utils.serve_logs``); the worker JAR starts this module for the same: Airflow's app,
serving ``[logging] base_log_folder`` with its JWT check, on Airflow's port. Only the address it
listens on can be chosen (Airflow's ``serve_logs`` listens on every interface), so that several
workers can share one host and one port on different addresses.

It holds ``[api] secret_key`` (the worker hands it no other credential) and marks itself non-dumpable,
as the token minter does. It leaves the worker's process group, so a SIGTERM to the group does not
stop it while the worker drains (the worker stops it last), and it exits when the worker does,
however the worker exits.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from airflow_temporal.worker import lifeline
from airflow_temporal.worker.token_minter import make_nondumpable

APP = "airflow.utils.serve_logs.log_server:get_app"


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; every interface (IPv6 and IPv4 where possible) when host is empty."""
    if host:
        return socket.create_server((host, port))
    if socket.has_dualstack_ipv6():
        return socket.create_server(("::", port), family=socket.AF_INET6, dualstack_ipv6=True)
    return socket.create_server(("0.0.0.0", port))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airflow_temporal.worker.log_server",
                                     description="Serve this host's task logs to Airflow's api-server.")
    parser.add_argument("--worker-pid", type=int, required=True, metavar="PID",
                        help="exit when this process (the worker JVM) exits")
    parser.add_argument("--host", default="", metavar="ADDRESS",
                        help="address to listen on (default: every interface, as Airflow's own log server)")
    args = parser.parse_args(argv)
    make_nondumpable()  # it holds [api] secret_key, which tasks of the same user must not read
    try:
        worker_pidfd = lifeline.open_worker(args.worker_pid)
    except ProcessLookupError:
        parser.exit(2, f"{parser.prog}: error: the worker (pid {args.worker_pid}) has already exited\n")
    os.setsid()
    lifeline.tie_to_worker(args.worker_pid, worker_pidfd, grace=0)

    import uvicorn
    from airflow.configuration import conf

    port = conf.getint("logging", "worker_log_server_port")
    folder = os.path.expanduser(conf.get("logging", "base_log_folder"))
    try:
        listener = _listen(args.host, port)
    except OSError as e:
        parser.exit(2, f"{parser.prog}: error: cannot listen on {args.host or '*'}:{port} ({e}): set "
                       f"[logging] worker_log_server_port (the api-server's too) to a free port, give this worker "
                       f"its own --log-server-host, or run it with --no-serve-logs\n")
    print(f"Serving task logs of {folder} on {args.host or '*'}:{port}", flush=True)
    # Airflow's serve_logs runs the same app with the same uvicorn settings, on a socket it binds itself.
    config = uvicorn.Config(APP, factory=True, log_level=conf.get("logging", "uvicorn_logging_level", fallback="info").lower(),
                            log_config=None, access_log=False)
    uvicorn.Server(config).run(sockets=[listener])
    sys.exit(0)


if __name__ == "__main__":
    main()
