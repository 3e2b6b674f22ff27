"""
``python -m airflow_temporal.worker.runner_server --socket PATH``: the pre-forked task runners of a worker host.

Starting a Python interpreter that imports Airflow's task runner costs about 2 s and 2.5 CPU-s per
attempt. This server pays it once: it imports the runner modules, then keeps a pool of **pooled
runners** (``pooled_runner``), forked from it as attempts arrive and kept for the next ones, as
LocalExecutor keeps one supervisor worker per slot. A pooled runner runs one attempt at a time
in-process (the runner module, whose Airflow supervisor forks the task process), so an attempt
costs one fork, not two. The pool grows while every runner is busy and shrinks as runners stay
idle for ``--idle-seconds``. The worker JAR starts the server and falls back to spawning
``python -m MODULE`` whenever it does not answer.

Protocol, one JSON object per line on a Unix domain socket (mode 0600), one connection per request:

* ``{"ping": true}`` → ``{"pong": SERVER_PID}``
* ``{"argv": ["-m", MODULE, ARG...], "output": FILE}``: the spawned runner's command line without
  the interpreter. A pooled runner runs ``MODULE`` as ``python -m MODULE ARG...`` would, stdin from
  /dev/null; FILE (created 0600 if missing, truncated) gets the tail of its stdout and stderr
  through Airflow's secrets masker once the module has returned (``masked_output``). Replies
  ``{"pid": PID}`` at once, the pooled runner's pid, then ``{"exit_code": CODE}`` when the attempt
  has ended (128 + N when the runner was killed by signal N, as the JVM reports it). If the client
  is gone before the pid is sent, the attempt does not start: nobody would supervise it.
  Signalling PID's process tree stops exactly this attempt: a pooled runner runs nothing else
  while its client holds the connection, so the runner is handed to the next attempt only once
  the client has closed it after the exit code, and a runner that got a stop signal leaves the
  pool (``pooled_runner``).
* anything else → ``{"error": MESSAGE}``.

The server is single-threaded and opens nothing but its listening socket and its runners' control
sockets before forking (no threads, no DB connections), so each pooled runner starts from a clean
copy. Every runner is reaped.
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
import time
import warnings
from dataclasses import dataclass, field

from airflow_temporal.worker import lifeline, pooled_runner

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
# How long a pooled runner may stay idle before it leaves the pool (LocalExecutor keeps its workers
# for good; a burst of attempts should not hold that much memory for good).
DEFAULT_IDLE_SECONDS = 120.0


@dataclass
class Connection:
    sock: socket.socket
    received: bytearray = field(default_factory=bytearray)
    runner: PooledRunner | None = None  # the runner of this connection's attempt


@dataclass
class PooledRunner:
    """The server's side of one pooled runner. Idle: no connection. Busy: running an attempt.
    Reserved: the attempt has ended, and its client has not closed the connection yet."""

    pid: int
    control: socket.socket
    received: bytearray = field(default_factory=bytearray)
    connection: Connection | None = None
    busy: bool = False
    retiring: bool = False
    idle_since: float = 0.0


class RunnerServer:
    def __init__(self, socket_path: str, runnable_modules: frozenset[str], exit_with_stdin: bool,
                 worker_pid: int | None = None, idle_seconds: float = DEFAULT_IDLE_SECONDS):
        self.socket_path = socket_path
        self.runnable_modules = runnable_modules
        self.exit_with_stdin = exit_with_stdin
        # Opened now, while the worker lives; every pooled runner inherits it and dies when the worker does.
        self.worker_pid = worker_pid
        self.worker_pidfd = lifeline.open_worker(worker_pid) if worker_pid is not None else None
        self.selector = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.idle_seconds = idle_seconds
        self.connections: dict[int, Connection] = {}  # by socket fd
        self.runners: dict[int, PooledRunner] = {}  # by pid, until reaped
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
            # The timeout is a safety net for reaping and the pace of idle retirement; SIGCHLD
            # normally wakes us at once.
            for key, _ in self.selector.select(timeout=5):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wakeup":
                    self._drain_wakeup()
                elif key.data == "stdin":
                    if not os.read(sys.stdin.fileno(), 4096):
                        self.stopping = True
                elif isinstance(key.data, PooledRunner):
                    self._read_runner(key.data)
                else:
                    self._read(key.data)
            self._reap()
            self._retire_idle()
        self.close()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        # Idle runners exit at the EOF; busy ones finish their attempt in their own session first: the
        # worker kills those it cancels by pid, and each dies with the worker itself (--worker-pid,
        # see airflow_temporal.worker.lifeline).
        for runner in list(self.runners.values()):
            self._close_control(runner)

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
            self._drop(connection)  # the client is gone; a running attempt goes on and its runner is reused
            return
        if connection.runner is not None:
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
        self._dispatch(connection, request["argv"][1], list(request["argv"][2:]), request["output"])

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

    def _dispatch(self, connection: Connection, module: str, args: list[str], output: str) -> None:
        runner = self._idle_runner()
        if runner is None:
            try:
                runner = self._start_runner()
            except OSError as e:
                self._reply(connection, {"error": f"fork failed: {e}"})
                self._drop(connection)
                return
        if not self._reply(connection, {"pid": runner.pid}):
            # Nobody knows this pid, so nobody could stop it: the attempt must not run.
            runner.idle_since = time.monotonic()
            self._drop(connection)
            return
        connection.runner = runner
        runner.connection = connection
        runner.busy = True
        request = {"module": module, "args": args, "output": output}
        try:
            runner.control.setblocking(True)  # a few hundred bytes to an idle runner
            runner.control.settimeout(5)
            runner.control.sendall(json.dumps(request).encode() + b"\n")
            runner.control.setblocking(False)
        except OSError:
            pass  # it died meanwhile: _reap answers with its exit status

    def _idle_runner(self) -> PooledRunner | None:
        idle = [r for r in self.runners.values()
                if r.connection is None and not r.busy and not r.retiring and r.control is not None]
        # The most recently used one: the others then stay idle long enough to be retired.
        return max(idle, key=lambda r: r.idle_since, default=None)

    def _start_runner(self) -> PooledRunner:
        ours, theirs = socket.socketpair()
        # Whatever sits in our buffers would otherwise be written twice, once by the child.
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            ours.close()
            self._become_pooled_runner(theirs)  # never returns
        theirs.close()
        ours.setblocking(False)
        runner = PooledRunner(pid, ours, idle_since=time.monotonic())
        self.runners[pid] = runner
        self.selector.register(ours, selectors.EVENT_READ, runner)
        return runner

    def _read_runner(self, runner: PooledRunner) -> None:
        try:
            data = runner.control.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_control(runner)  # it is exiting: _reap tells its client how
            return
        runner.received += data
        while b"\n" in runner.received:
            line, _, rest = bytes(runner.received).partition(b"\n")
            runner.received = bytearray(rest)
            try:
                message = json.loads(line)
                code = int(message["exit_code"])
            except (ValueError, KeyError, TypeError):
                continue
            self._attempt_ended(runner, code, message.get("retire"))

    def _attempt_ended(self, runner: PooledRunner, code: int, retire: str | None) -> None:
        runner.busy = False
        runner.idle_since = time.monotonic()
        if retire:
            runner.retiring = True
            print(f"pooled runner pid {runner.pid} leaves the pool: {retire}", file=sys.stderr, flush=True)
        if runner.connection is not None:
            # The runner stays reserved for this client until it closes the connection: until then
            # the client may still signal PID to stop the attempt it was told about.
            self._reply(runner.connection, {"exit_code": code})

    def _close_control(self, runner: PooledRunner) -> None:
        if runner.control is None:
            return
        self.selector.unregister(runner.control)
        runner.control.close()
        runner.control = None

    def _retire_idle(self) -> None:
        now = time.monotonic()
        for runner in list(self.runners.values()):
            if (runner.control is not None and runner.connection is None and not runner.busy
                    and now - runner.idle_since > self.idle_seconds):
                self._close_control(runner)  # it exits at the EOF

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
        runner, connection.runner = connection.runner, None
        if runner is not None and runner.connection is connection:
            runner.connection = None  # back in the pool once its attempt has ended
            if not runner.busy:
                runner.idle_since = time.monotonic()

    def _reap(self) -> None:
        while self.runners:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            runner = self.runners.pop(pid, None)
            if runner is None:
                continue
            if runner.control is not None:
                self._read_runner(runner)  # an exit code it sent just before it exited
                self._close_control(runner)
            if runner.busy and runner.connection is not None:
                # Died during its attempt (killed, most likely): the attempt's exit code is the runner's.
                if os.WIFSIGNALED(status):
                    code = 128 + os.WTERMSIG(status)
                else:
                    code = os.waitstatus_to_exitcode(status)
                self._reply(runner.connection, {"exit_code": code})
            if runner.connection is not None:
                runner.connection.runner = None
                self._drop(runner.connection)

    # ---- a pooled runner

    def _become_pooled_runner(self, control: socket.socket) -> None:
        try:
            os.setsid()  # its own session and process group: the worker stops its tree by pid
            self._forget_server()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)  # until an attempt points 1 and 2 at its capture
            if devnull > 2:
                os.close(devnull)
            if self.worker_pid is not None:
                lifeline.tie_to_worker(self.worker_pid, self.worker_pidfd)
            pooled_runner.serve(control)
        finally:
            os._exit(1)  # the child must never fall back into the server loop

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
        # Another runner's control socket held open here would hide that runner's EOF.
        for runner in self.runners.values():
            if runner.control is not None:
                runner.control.close()
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
    from airflow.configuration import conf

    if conf.getboolean("temporal", "reuse_dag_parses", fallback=True):
        from airflow_temporal.worker import dag_cache

        dag_cache.install()
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
        description="Pre-import Airflow's task runners once and run attempts on request in a pool of forked runners.",
    )
    parser.add_argument("--socket", required=True, help="Unix domain socket path to listen on (created 0600)")
    parser.add_argument("--exit-with-stdin", action="store_true",
                        help="exit when stdin reaches EOF (the worker that started us has gone); ignore SIGTERM "
                             "and SIGINT, so that the worker can drain")
    parser.add_argument("--worker-pid", type=int, metavar="PID",
                        help="the worker's pid: every pooled runner stops its tree when that process exits")
    parser.add_argument("--idle-seconds", type=float, default=DEFAULT_IDLE_SECONDS, metavar="S",
                        help="a pooled runner idle for this long leaves the pool (default: %(default)s)")
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
            args.idle_seconds,
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
