"""airflow_temporal.worker.supervisor_exit against the installed Airflow's real task supervisor and a real child."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
from airflow.sdk.execution_time.supervisor import WatchedSubprocess

from airflow_temporal.worker import supervisor_exit

# Far longer than any test runs: a supervisor that sleeps it out would hang the test, not pass it.
HEARTBEAT_WAIT_S = 3600
# A bound on how long the test waits for something that happens at once when it works.
LIVENESS_S = 60


class ProbeSubprocess(WatchedSubprocess):
    """A WatchedSubprocess whose child sends no requests."""


def start_child_that_closes_its_sockets_then_waits(release_fd: int, keep_fd: int) -> None:
    # In the forked child: close every socket to the supervisor (stdio, requests, logs) as a task
    # process does on its way out, then stay alive until the test releases it.
    for fd in range(0, 1024):
        if fd != keep_fd:
            try:
                os.close(fd)
            except OSError:
                pass
    os.read(keep_fd, 1)
    os._exit(0)


@pytest.fixture
def supervised_child_with_sockets_closed():
    """A real supervised child that has closed all its sockets but not exited; yields (process, release)."""
    read_fd, write_fd = os.pipe()
    process = ProbeSubprocess.start(
        target=lambda: start_child_that_closes_its_sockets_then_waits(write_fd, read_fd), id=uuid.uuid4())
    os.close(read_fd)
    for _ in range(LIVENESS_S):
        if not process._open_sockets:
            break
        process._service_subprocess(max_wait_time=1)
    assert not process._open_sockets, "the child's sockets never reached EOF"
    assert process._exit_code is None, "the child exited before the test released it"

    def release() -> None:
        os.write(write_fd, b"x")

    yield process, release
    os.close(write_fd)
    if process._exit_code is None:
        process.kill(force=True)


def service_in_background(process) -> tuple[threading.Thread, dict]:
    outcome: dict = {}
    thread = threading.Thread(
        target=lambda: outcome.update(exit_code=process._service_subprocess(max_wait_time=HEARTBEAT_WAIT_S)),
        daemon=True)
    thread.start()
    return thread, outcome


def test_the_supervisor_sees_the_exit_of_a_process_whose_sockets_closed_first_without_sleeping_a_heartbeat(
        supervised_child_with_sockets_closed):
    assert supervisor_exit.install()
    process, release = supervised_child_with_sockets_closed

    thread, outcome = service_in_background(process)
    release()
    thread.join(LIVENESS_S)

    assert not thread.is_alive(), f"the supervisor still waits for up to {HEARTBEAT_WAIT_S} s"
    assert outcome["exit_code"] == 0
    assert process._exit_code == 0


def test_installing_twice_wraps_the_supervisor_once():
    assert supervisor_exit.install()
    patched = WatchedSubprocess._service_subprocess
    assert supervisor_exit.install()
    assert WatchedSubprocess._service_subprocess is patched
