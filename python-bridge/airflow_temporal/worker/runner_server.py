"""
``python -m airflow_temporal.worker.runner_server --socket PATH``: the pre-forked task runner of a worker host.

Starting a Python interpreter that imports Airflow's task runner costs about 2 s and 2.5 CPU-s per
attempt. This server pays it once: it imports the runner modules, then forks one child per attempt,
as LocalExecutor forks its tasks from pre-loaded workers. The worker JAR starts it and falls back to
spawning ``python -m MODULE`` whenever it does not answer.

Protocol, one JSON object per line on a Unix domain socket (mode 0600), one connection per request:

* ``{"ping": true}`` → ``{"pong": SERVER_PID}``
* ``{"argv": ["-m", MODULE, ARG...], "output": FILE}``: the spawned runner's command line without
  the interpreter. The child runs ``MODULE`` as ``python -m MODULE ARG...`` would, in its own session,
  stdin from /dev/null; FILE (created 0600 if missing, truncated) gets the tail of its stdout and
  stderr through Airflow's secrets masker once the module has returned (``masked_output``). Replies
  ``{"pid": PID}`` at once, then ``{"exit_code": CODE}`` when the child has exited (128 + N when
  killed by signal N, as the JVM reports it). If the client is gone before the pid is sent, the child
  is killed: nobody would supervise it.
* anything else → ``{"error": MESSAGE}``.

The server is single-threaded and opens nothing but its listening socket before forking (no
threads, no DB connections), so a child starts from a clean copy. Every child is reaped.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import runpy
import selectors
import signal
import socket
import stat
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass, field

from airflow_temporal.worker import lifeline, masked_output

EXECUTOR_RUNNER_MODULE = "airflow.sdk.execution_time.execute_workload"
OWNED_RUNNER_MODULE = "airflow_temporal.worker.task_runner"

# What a runner imports on its way to the task: the two runner modules, what they import lazily,
# the supervisor and the task-side runner it forks, what that runner parses the DAG file with, and
# the SDK that DAG files import. Without the DAG bag and bundle manager every task process imported
# them again (0.08 CPU-s per attempt on the benchmark machine).
PRELOADED_MODULES = (
    EXECUTOR_RUNNER_MODULE,
    OWNED_RUNNER_MODULE,
    "airflow.executors.base_executor",
    "airflow.executors.workloads",
    "airflow.sdk.log",
    "airflow.sdk.execution_time.supervisor",
    "airflow.sdk.execution_time.task_runner",
    "airflow.dag_processing.dagbag",
    "airflow.dag_processing.bundles.manager",
    "airflow.sdk",
    "airflow.api_fastapi.auth.tokens",
    "airflow.utils.helpers",
    "pydantic",
    # Every task process loads the entry-point plugins (for listeners and macros): ours imports
    # FastAPI, which was two thirds of a no-op task process's CPU (0.2 CPU-s, docs/benchmarks.md).
    "airflow_temporal.plugins.temporal_plugin",
)
# What most DAG files use (`@task`, PythonOperator), where installed: the standard provider is optional.
OPTIONAL_PRELOADED_MODULES = ("airflow.providers.standard.decorators.python",)

MAX_REQUEST_BYTES = 64 * 1024


@dataclass
class Connection:
    sock: socket.socket
    received: bytearray = field(default_factory=bytearray)
    child_pid: int | None = None


class RunnerServer:
    def __init__(self, socket_path: str, runnable_modules: frozenset[str], exit_with_stdin: bool,
                 worker_pid: int | None = None):
        self.socket_path = socket_path
        self.runnable_modules = runnable_modules
        self.exit_with_stdin = exit_with_stdin
        # Opened now, while the worker lives; every child inherits it and dies when the worker does.
        self.worker_pid = worker_pid
        self.worker_pidfd = lifeline.open_worker(worker_pid) if worker_pid is not None else None
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.connections: dict[int, Connection] = {}  # by socket fd
        self.children: dict[int, Connection | None] = {}  # by pid; None once the client has gone
        self.stopping = False
        self.wakeup_reader, self.wakeup_writer = os.pipe()

    # ---- lifecycle

    def listen(self) -> None:
        if os.path.exists(self.socket_path) and stat.S_ISSOCK(os.lstat(self.socket_path).st_mode):
            os.unlink(self.socket_path)  # left by a server that died; the worker only restarts a dead one
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is born 0600: nobody else may ask us to run anything
        try:
            listener.bind(self.socket_path)
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        listener.listen(128)
        listener.setblocking(False)
        self.listener = listener
        self.selector.register(listener, selectors.EVENT_READ, "accept")

    def serve(self) -> None:
        for fd in (self.wakeup_reader, self.wakeup_writer):
            os.set_blocking(fd, False)
        # SIGCHLD and SIGTERM only write to the wakeup pipe; the loop does the work.
        signal.set_wakeup_fd(self.wakeup_writer)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        if self.exit_with_stdin:
            # Our life is the worker's: a SIGTERM sent to the worker's whole process group (systemd,
            # a terminal) must not stop us while the worker drains its running attempts.
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, self._request_stop)
            signal.signal(signal.SIGINT, self._request_stop)
        self.selector.register(self.wakeup_reader, selectors.EVENT_READ, "wakeup")
        if self.exit_with_stdin:
            # The worker holds our stdin open: EOF means it is gone, even if it was SIGKILLed.
            self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
        while not self.stopping:
            # The timeout is a safety net for reaping; SIGCHLD normally wakes us at once.
            for key, _ in self.selector.select(timeout=5):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wakeup":
                    self._drain_wakeup()
                elif key.data == "stdin":
                    if not os.read(sys.stdin.fileno(), 4096):
                        self.stopping = True
                else:
                    self._read(key.data)
            self._reap()
        self.close()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        # Running children live on in their own sessions: the worker kills those it cancels by pid,
        # and each dies with the worker itself (--worker-pid, see airflow_temporal.worker.lifeline).

    def _request_stop(self, *_):
        self.stopping = True

    def _drain_wakeup(self) -> None:
        try:
            while os.read(self.wakeup_reader, 4096):
                pass
        except BlockingIOError:
            pass

    # ---- requests

    def _accept(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        sock.setblocking(False)
        connection = Connection(sock)
        self.connections[sock.fileno()] = connection
        self.selector.register(sock, selectors.EVENT_READ, connection)

    def _read(self, connection: Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(connection)  # the client is gone; a running child goes on and is still reaped
            return
        if connection.child_pid is not None:
            return  # one request per connection; anything after it is ignored
        connection.received += data
        if b"\n" not in connection.received:
            if len(connection.received) > MAX_REQUEST_BYTES:
                self._reply(connection, {"error": "request too long"})
                self._drop(connection)
            return
        line = bytes(connection.received.split(b"\n", 1)[0])
        try:
            request = json.loads(line)
        except ValueError as e:
            request = None
            problem = f"not JSON: {e}"
        if isinstance(request, dict) and request.get("ping"):
            self._reply(connection, {"pong": os.getpid()})
            self._drop(connection)
            return
        if request is not None:
            problem = self._refusal(request)
        if problem:
            self._reply(connection, {"error": problem})
            self._drop(connection)
            return
        self._fork(connection, request["argv"][1], list(request["argv"][2:]), request["output"])

    def _refusal(self, request) -> str | None:
        if not isinstance(request, dict):
            return "the request is not a JSON object"
        argv, output = request.get("argv"), request.get("output")
        if not (isinstance(argv, list) and len(argv) >= 2 and all(isinstance(a, str) for a in argv)
                and argv[0] == "-m"):
            return "argv must be [\"-m\", MODULE, ARG...]"
        if argv[1] not in self.runnable_modules:
            return f"module {argv[1]} is not one this server runs ({', '.join(sorted(self.runnable_modules))})"
        if not isinstance(output, str) or not os.path.isabs(output):
            return "output must be an absolute file path"
        return None

    def _fork(self, connection: Connection, module: str, args: list[str], output: str) -> None:
        # Whatever sits in our buffers would otherwise be written twice, once by the child.
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as e:
            self._reply(connection, {"error": f"fork failed: {e}"})
            self._drop(connection)
            return
        if pid == 0:
            self._become_runner(module, args, output)  # never returns
        connection.child_pid = pid
        self.children[pid] = connection
        if not self._reply(connection, {"pid": pid}):
            # Nobody knows this pid, so nobody could stop it: it must not run the attempt.
            os.kill(pid, signal.SIGKILL)
            self._drop(connection)

    def _reply(self, connection: Connection, message: dict) -> bool:
        data = json.dumps(message).encode() + b"\n"
        try:
            connection.sock.setblocking(True)  # a few bytes; the client reads them at once
            connection.sock.settimeout(5)
            connection.sock.sendall(data)
            connection.sock.setblocking(False)
            return True
        except OSError:
            return False

    def _drop(self, connection: Connection) -> None:
        if self.connections.pop(connection.sock.fileno(), None) is None:
            return
        self.selector.unregister(connection.sock)
        connection.sock.close()
        if connection.child_pid in self.children:
            self.children[connection.child_pid] = None

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            connection = self.children.pop(pid, None)
            if connection is None:
                continue
            if os.WIFSIGNALED(status):
                code = 128 + os.WTERMSIG(status)
            else:
                code = os.waitstatus_to_exitcode(status)
            self._reply(connection, {"exit_code": code})
            self._drop(connection)

    # ---- the child

    def _become_runner(self, module: str, args: list[str], output: str) -> None:
        code = 1
        capture = None
        try:
            os.setsid()  # its own session and process group: the worker stops its tree by pid
            self._forget_server()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            if devnull != 0:
                os.close(devnull)
            # The worker reads FILE: it gets only the masked tail, written once the module has returned
            # (not open meanwhile, so that no process the module forks can write to it).
            os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
            capture = masked_output.capture_stdio(os.path.dirname(output))
            if self.worker_pid is not None:
                lifeline.tie_to_worker(self.worker_pid, self.worker_pidfd)
            code = run_module_as_main(module, args)
        except BaseException:  # noqa: BLE001 - the child must never fall back into the server loop
            try:
                traceback.print_exc()
            except BaseException:  # noqa: BLE001
                pass
        finally:
            try:
                if capture is not None:
                    masked_output.write_masked_tail(capture, os.open(output, os.O_WRONLY))
            except BaseException:  # noqa: BLE001 - no tail rather than an unmasked one
                pass
            os._exit(code)

    def _forget_server(self) -> None:
        """Drops everything of the server in the child: sockets, wakeup pipe and signal handlers."""
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a fresh interpreter
        self.selector.close()
        if self.listener is not None:
            self.listener.close()
        for connection in self.connections.values():
            connection.sock.close()
        os.close(self.wakeup_reader)
        os.close(self.wakeup_writer)


def run_module_as_main(module: str, args: list[str]) -> int:
    """Runs ``module`` as ``python -m module args`` runs it and returns the exit code it would have.

    Like an interpreter that reaches its end: SystemExit gives the code, an uncaught exception is
    printed and gives 1, and atexit handlers and stdio flushes run before the caller's ``os._exit``.
    """
    sys.argv = [module, *args]  # runpy puts the module's file in argv[0], as -m does
    # The runner modules were imported by preload(); running one again as __main__ is what we want.
    warnings.filterwarnings("ignore", message=".*found in sys.modules after import of package",
                            category=RuntimeWarning)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001 - as the interpreter's own top level
        sys.excepthook(*sys.exc_info())
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def preload(modules: tuple[str, ...]) -> None:
    import importlib

    # Owned runs need Airflow's models to accept run_type='external': the hook must be in place before
    # the models are imported, here once for every child (it is idempotent).
    from airflow_temporal import external_runs
    from airflow_temporal.worker import supervisor_exit

    external_runs.install()
    for name in modules:
        importlib.import_module(name)
    for name in OPTIONAL_PRELOADED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    supervisor_exit.install()
    # Every supervisor builds an API client whose TLS context loads the CA bundle (0.04 CPU-s); the
    # client caches that context per process, so build it once here for all children.
    from airflow.sdk.api import client

    client.Client._get_ssl_context_cached(client.API_SSL_CA_FILE_PATH, client.API_SSL_CERT_PATH)
    # A thread would be copied into each child as a dead husk holding whatever locks it held.
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if others:
        raise RuntimeError(f"importing the runner started threads {others}; forking from it is unsafe")
    # As LocalExecutor does before forking: the pre-imported objects move out of the collector's
    # reach, so children do not copy the pages a collection would touch.
    gc.freeze()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_temporal.worker.runner_server",
        description="Pre-import Airflow's task runners once and fork one child per attempt on request.",
    )
    parser.add_argument("--socket", required=True, help="Unix domain socket path to listen on (created 0600)")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit when stdin reaches EOF (the worker that started us has gone); ignore SIGTERM "
                             "and SIGINT, so that the worker can drain")
    parser.add_argument("--worker-pid", type=int, metavar="PID",
                        help="the worker's pid: every child stops its tree when that process exits")
    parser.add_argument("--allow-module", action="append", default=[], metavar="MODULE",
                        help="also run this module (tests); the two runner modules are always allowed")
    parser.add_argument("--no-preload", action="store_true",
                        help="skip importing Airflow (tests of the server itself)")
    args = parser.parse_args(argv)
    if not args.no_preload:
        preload(PRELOADED_MODULES)
    try:
        server = RunnerServer(
            args.socket,
            frozenset({EXECUTOR_RUNNER_MODULE, OWNED_RUNNER_MODULE, *args.allow_module}),
            args.exit_with_stdin,
            args.worker_pid,
        )
    except ProcessLookupError:
        parser.exit(2, f"{parser.prog}: error: the worker (pid {args.worker_pid}) has already exited\n")
    try:
        server.listen()
    except OSError as e:
        parser.exit(2, f"{parser.prog}: error: cannot listen on {args.socket}: {e.strerror or e}\n")
    print(f"runner server pid {os.getpid()} listening on {args.socket}", file=sys.stderr, flush=True)
    server.serve()


if __name__ == "__main__":
    main()
