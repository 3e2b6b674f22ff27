"""Let a runner's task supervisor return as soon as its task process has exited.

Airflow 3.3's supervisor (``airflow.sdk.execution_time.supervisor.WatchedSubprocess``) waits for its
task process in ``select`` over the process's sockets and checks for its exit after each wake-up. A
task process closes its sockets on its way out, so their last EOF arrives just before the process can
be reaped; when the check runs in that gap, the next ``select`` has no socket left to wake it and
sleeps out the whole heartbeat interval (``[workers] min_heartbeat_interval``, 5 s) before the
supervisor notices the exit. Our runner holds its worker slot (and, in a Temporal-owned run, the next
task's start) for that time: in the benchmark, 106 of 200 fan-out runners and some of a chain's lived
5 s past their task's end (docs/benchmarks.md).

:func:`install` makes the supervisor, once every socket is closed and the exit not yet seen, wait on
the process itself for the same time instead of on an empty selector. It is applied in our runners
only (the pre-forked runner server and ``airflow_temporal.worker.task_runner``), never in Airflow's own
processes. docs/architecture.md (Runner modes) carries the equivalent upstream change.
"""

from __future__ import annotations

import functools
import logging

_MARK = "_airflow_temporal_waits_for_exit"
# What the replacement relies on; a supervisor without them is left as it is.
_REQUIRED = ("_service_subprocess", "_check_subprocess_exit")


def install() -> bool:
    """Patch ``WatchedSubprocess._service_subprocess`` in this process; idempotent.

    Returns whether the patch is in place (False, with a warning, on a supervisor of another shape).
    """
    from airflow.sdk.execution_time.supervisor import WatchedSubprocess

    original = WatchedSubprocess._service_subprocess
    if getattr(original, _MARK, False):
        return True
    if not all(callable(getattr(WatchedSubprocess, name, None)) for name in _REQUIRED):
        logging.getLogger(__name__).warning(
            "airflow-temporal: this Airflow's task supervisor lacks %s; its runners may outlive their "
            "task by up to [workers] min_heartbeat_interval", ", ".join(_REQUIRED))
        return False

    @functools.wraps(original)
    def service_subprocess(self, max_wait_time: float, raise_on_timeout: bool = False,
                           expect_signal: int | None = None):
        if self._exit_code is None and not self._open_sockets:
            # Nothing left to select on: the process is exiting. Wait for that, as long as select would.
            try:
                self._process.wait(timeout=max(0.01, max_wait_time))
            except self._process.TimeoutExpired:
                pass
            return self._check_subprocess_exit(raise_on_timeout=raise_on_timeout, expect_signal=expect_signal)
        return original(self, max_wait_time, raise_on_timeout=raise_on_timeout, expect_signal=expect_signal)

    setattr(service_subprocess, _MARK, True)
    WatchedSubprocess._service_subprocess = service_subprocess
    return True
