"""
A task runner dies with the worker that started it.

Every runner (forked by the runner server, or spawned) watches the worker JVM's process through a
pidfd, which becomes readable when the JVM exits, however it exits (``kill -9`` included); the
runner then stops its whole tree. A runner outliving its worker would run on unwatched while
Temporal declares its attempt lost and Airflow retries it elsewhere: two attempts of one TI at once.
The runner server itself may stop or be restarted meanwhile without taking its runners along. See
docs/architecture.md ("When a worker dies").

Forked runners are tied by the runner server (``--worker-pid``), spawned ones by
``airflow_temporal.worker.masked_output --worker-pid``.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time

# Between SIGTERM (the task's on_kill runs, Airflow's task runner reports the try failed) and SIGKILL.
STOP_GRACE_SECONDS = 5.0
# Where pidfds are missing (Linux before 5.3), how often the worker's pid is looked at instead.
POLL_SECONDS = 1.0


def open_worker(worker_pid: int) -> int | None:
    """A pidfd of the worker, opened while it lives (so a reused pid is never mistaken for it).

    None where the kernel has no pidfds; raises ProcessLookupError if the worker is already gone.
    """
    try:
        return os.pidfd_open(worker_pid)
    except (AttributeError, OSError) as e:
        if isinstance(e, ProcessLookupError):
            raise
        return None


def tie_to_worker(worker_pid: int, worker_pidfd: int | None, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stops this process and every descendant once the worker has exited."""

    def watch() -> None:
        if worker_pidfd is not None:
            select.select([worker_pidfd], [], [])
        else:
            while _alive(worker_pid):
                time.sleep(POLL_SECONDS)
        stop_tree(grace)

    threading.Thread(target=watch, name="worker-lifeline", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def stop_tree(grace: float) -> None:
    """SIGTERM to every descendant, SIGKILL to whatever is left after ``grace``, then to ourselves.

    Airflow's supervisor puts the task process in a process group of its own, so signalling our
    group would miss it: the tree is walked through /proc instead.
    """
    me = os.getpid()
    for pid in descendants(me):
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and descendants(me):
        time.sleep(0.1)
    for pid in descendants(me):
        _signal(pid, signal.SIGKILL)
    os.kill(me, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, children first."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        for child in _children(parent):
            found.append(child)
            pending.append(child)
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return children
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return children


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
