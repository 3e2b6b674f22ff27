"""
A task runner's output leaves it only through Airflow's secrets masker.

The worker reports the tail of a failed runner's output in the attempt's result, which Temporal keeps
in the workflow's history, and appends it to the task log. The runner's supervisor registers every
secret it hands to the task (connection passwords and extras, sensitive variables, whatever the task
passes to ``mask_secret``) with Airflow's masker, in its own process. So the runner writes its output
to an unlinked file first, and only when the runner module has returned writes the masked tail of it
where the worker reads: a runner killed before that leaves nothing behind to read.

Forked runners (``runner_server``) do this in the child; spawned ones run as
``python -m airflow_temporal.worker.masked_output --worker-pid PID MODULE ARG...``, which runs ``MODULE`` as
``python -m MODULE ARG...`` would, dies with the worker process PID (see ``lifeline``) and writes the
masked tail to its own stdout.
"""

from __future__ import annotations

import os
import sys
import tempfile

# As much as the worker keeps (OutputTail: 40 lines of up to 500 characters of up to 4 bytes each).
TAIL_BYTES = 40 * (500 * 4 + 1)
# Where the supervisor registers secrets (airflow.sdk.log.mask_secret); airflow._shared's is another instance.
MASKER_MODULE = "airflow.sdk._shared.secrets_masker"


def capture_stdio(directory: str) -> int:
    """Points stdout and stderr at a new file in ``directory`` that has no name; returns its fd."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        capture = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    except (AttributeError, OSError):  # no O_TMPFILE (not Linux, or the file system lacks it)
        capture, path = tempfile.mkstemp(dir=directory)
        os.unlink(path)
    os.dup2(capture, 1)
    os.dup2(capture, 2)
    return capture


def masked_tail(capture: int) -> bytes:
    """The last TAIL_BYTES of what was written to ``capture``, from a line start, through the masker."""
    sys.stdout.flush()
    sys.stderr.flush()
    size = os.fstat(capture).st_size
    start = max(0, size - TAIL_BYTES)
    data = os.pread(capture, size - start, start)
    if start > 0:
        data = data[data.find(b"\n") + 1:] if b"\n" in data else b""
    masker = sys.modules.get(MASKER_MODULE)
    if masker is None:
        return data  # never imported here, so no secret was registered with it
    return str(masker.redact(data.decode("utf-8", errors="replace"))).encode("utf-8")


def write_masked_tail(capture: int, destination: int) -> None:
    data = masked_tail(capture)
    while data:
        data = data[os.write(destination, data):]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    worker_pid = None
    if argv[:1] == ["--worker-pid"] and len(argv) >= 2:
        worker_pid, argv = int(argv[1]), argv[2:]
    if not argv:
        sys.exit("usage: python -m airflow_temporal.worker.masked_output [--worker-pid PID] MODULE [ARG...]")
    from airflow_temporal.worker import lifeline
    from airflow_temporal.worker.runner_server import run_module_as_main

    if worker_pid is not None:
        try:
            lifeline.tie_to_worker(worker_pid, lifeline.open_worker(worker_pid))
        except ProcessLookupError:
            sys.exit(f"the worker (pid {worker_pid}) that started this runner has already exited")

    destination = os.dup(1)
    capture = capture_stdio(tempfile.gettempdir())
    code = 1
    try:
        code = run_module_as_main(argv[0], argv[1:])
    finally:
        write_masked_tail(capture, destination)
        os._exit(code)  # run_module_as_main ran the exit handlers, as the interpreter's end would


if __name__ == "__main__":
    main()
