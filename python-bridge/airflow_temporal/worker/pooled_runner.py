"""
A pooled runner: a long-lived process of the runner server that runs one attempt after another.

LocalExecutor keeps one supervisor worker per slot and forks only the task process per attempt. The
runner server (``runner_server``) does the same: it forks pooled runners as slots fill, each of which
runs one attempt at a time in-process — the runner module as ``python -m`` would run it, which calls
Airflow's ``supervise()``, which forks the task process — and then waits for the next one. Each
attempt thus costs one fork instead of two, and the pages a fresh fork of the server would copy on
write are copied once per pooled runner, not once per attempt.

Protocol with the server, one JSON line each way per attempt on the runner's end of a socket pair:
``{"module": M, "args": [...], "output": FILE}`` → ``{"exit_code": N}``, plus ``"retire": REASON``
when this process will not take another attempt (it exits right after). EOF means the server has
gone or retired us while idle: we exit.

Every attempt starts from the state the process had when it joined the pool (what a fresh fork of
the server had): environment, cwd, umask, signal handlers and mask, ``sys`` hooks and streams,
stdlib logging and structlog configuration, warning filters, ``airflow.settings``' module globals
(the ORM), and both secrets maskers' patterns are put back after each attempt. What cannot be put
back retires the process instead of reusing it: a thread or an open file the attempt left behind
(a fork by the next attempt's supervisor would copy it into that task process), or a stop signal
(SIGTERM, SIGINT, SIGHUP: the worker stopping this attempt) that arrived during the attempt.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import socket
import sys
import threading
import traceback
import warnings
from typing import NoReturn

from airflow_temporal.worker import masked_output

IDLE_TITLE = "airflow-temporal pooled runner: idle"
# Signals by which a worker stops an attempt; Airflow's supervisor forwards them to its task process.
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
# Both copies of Airflow's secrets masker (task SDK and core); each holds its own patterns.
MASKER_MODULES = (masked_output.MASKER_MODULE, "airflow._shared.secrets_masker")


def serve(control: socket.socket) -> NoReturn:
    """Runs attempts as the server sends them until it closes ``control``; never returns."""
    # As Airflow's supervisor does in the task process it forks: at an attempt's end run only what
    # that attempt registered (run_module_as_main runs and clears the list), never the server's
    # handlers again and again.
    atexit._clear()
    _set_title(IDLE_TITLE)
    requests = control.makefile("rb")
    while True:
        try:
            line = requests.readline()
            request = json.loads(line) if line else None
        except (OSError, ValueError):
            request = None
        if request is None:
            os._exit(0)
        code, retire = run_attempt(request["module"], list(request["args"]), request["output"])
        reply = {"exit_code": code}
        if retire:
            reply["retire"] = retire
        try:
            control.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            os._exit(0)
        if retire:
            os._exit(0)
        _set_title(IDLE_TITLE)


def run_attempt(module: str, args: list[str], output: str) -> tuple[int, str | None]:
    """Runs one attempt, as the forked runner of old did in a fresh process; returns its exit code and,
    if this process must not run another attempt, why."""
    from airflow_temporal.worker.runner_server import run_module_as_main

    state = ProcessState()
    signals = StopSignalWatch()
    code = 1
    capture = None
    try:
        # The worker reads FILE: it gets only the masked tail, written once the module has returned
        # (not open meanwhile, so that no process the module forks can write to it).
        os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        capture = masked_output.capture_stdio(os.path.dirname(output))
        code = run_module_as_main(module, args)
    except BaseException:  # noqa: BLE001 - an attempt's failure must never take the pooled runner along
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        if capture is not None:
            try:
                destination = os.open(output, os.O_WRONLY)
                try:
                    masked_output.write_masked_tail(capture, destination)
                finally:
                    os.close(destination)
            except BaseException:  # noqa: BLE001 - no tail rather than an unmasked one
                pass
    # The attempt's stdout and stderr pointed at its capture; between attempts nothing is written.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    if capture is not None:
        os.close(capture)
    stopped = signals.stop()
    state.restore()
    if stopped:
        return code, f"stopped by {stopped}"
    return code, state.leftovers()


class StopSignalWatch:
    """Whether a stop signal reached this process while it ran an attempt.

    Airflow's supervisor catches SIGTERM and SIGINT (it forwards them to its task process) and then
    returns as if nothing had happened; Python writes the number of every signal it catches to the
    wakeup fd, so this sees it all the same.
    """

    def __init__(self):
        self.reader, self.writer = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.previous = signal.set_wakeup_fd(self.writer)

    def stop(self) -> str | None:
        signal.set_wakeup_fd(self.previous)
        caught = b""
        try:
            while chunk := os.read(self.reader, 4096):
                caught += chunk
        except BlockingIOError:
            pass
        os.close(self.reader)
        os.close(self.writer)
        stops = sorted({signal.Signals(n).name for n in caught if n in STOP_SIGNALS})
        return ", ".join(stops) or None


class ProcessState:
    """What an attempt may change in its process, captured before it and put back after it."""

    def __init__(self):
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.umask = os.umask(0o022)
        os.umask(self.umask)
        self.handlers = {}
        for signum in signal.valid_signals():
            try:
                handler = signal.getsignal(signum)
            except (ValueError, OSError):
                continue
            if handler is not None:  # None: set outside Python, which Python cannot set back
                self.handlers[signum] = handler
        self.sigmask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        self.sys_attrs = {name: getattr(sys, name) for name in
                          ("argv", "stdin", "stdout", "stderr", "excepthook", "displayhook")}
        self.sys_path = list(sys.path)
        self.warning_filters = list(warnings.filters)
        self.showwarning = warnings.showwarning
        self.logging = _LoggingState()
        self.modules = {name: dict(vars(sys.modules[name])) for name in ("airflow.settings",) if name in sys.modules}
        self.maskers = {}
        for name in MASKER_MODULES:
            masker = _masker(name)
            if masker is not None:
                self.maskers[name] = _copied(vars(masker))
        self.fds = _open_fds()
        self.threads = set(threading.enumerate())

    def restore(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)  # an alarm the attempt set must not fire in the next one
        for signum, handler in self.handlers.items():
            if signal.getsignal(signum) is not handler:
                signal.signal(signum, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, self.sigmask)
        os.environ.clear()
        os.environ.update(self.environ)
        os.chdir(self.cwd)
        os.umask(self.umask)
        for name, value in self.sys_attrs.items():
            setattr(sys, name, value)
        sys.path[:] = self.sys_path
        warnings.filters[:] = self.warning_filters
        warnings.showwarning = self.showwarning
        warnings._filters_mutated()
        self.logging.restore()
        for name, saved in self.modules.items():
            _restore_dict(vars(sys.modules[name]), saved)
        for name, saved in self.maskers.items():
            masker = _masker(name)
            if masker is not None:
                _restore_dict(vars(masker), _copied(saved))

    def leftovers(self) -> str | None:
        """Why this process must not run another attempt: what the attempt left behind, if anything."""
        threads = [t.name for t in threading.enumerate() if t not in self.threads and t.is_alive()]
        if threads:
            return f"the attempt left threads running: {', '.join(sorted(threads))}"
        fds = _open_fds() - self.fds
        if fds:
            return f"the attempt left {len(fds)} file descriptor(s) open"
        return None


class _LoggingState:
    """The stdlib logging tree (handlers, levels, filters) and structlog's configuration."""

    def __init__(self):
        manager = logging.Logger.manager
        self.disable = manager.disable
        self.loggers = {}
        for logger in [logging.root, *manager.loggerDict.values()]:
            if isinstance(logger, logging.Logger):
                self.loggers[logger] = (list(logger.handlers), list(logger.filters), logger.level,
                                        logger.propagate, logger.disabled)
        structlog = sys.modules.get("structlog")
        self.structlog = dict(structlog.get_config()) if structlog is not None else None

    def restore(self) -> None:
        manager = logging.Logger.manager
        logging.disable(self.disable)
        for logger in [logging.root, *manager.loggerDict.values()]:
            if not isinstance(logger, logging.Logger):
                continue
            # A logger the attempt created goes back to what getLogger would give the next attempt.
            handlers, filters, level, propagate, disabled = self.loggers.get(
                logger, ([], [], logging.NOTSET, True, False))
            logger.handlers[:] = handlers
            logger.filters[:] = filters
            logger.setLevel(level)
            logger.propagate = propagate
            logger.disabled = disabled
        structlog = sys.modules.get("structlog")
        if structlog is not None:
            if self.structlog is None:
                structlog.reset_defaults()
            else:
                structlog.configure(**self.structlog)


def _masker(module_name: str):
    module = sys.modules.get(module_name)
    return module._secrets_masker() if module is not None else None


def _copied(attrs: dict) -> dict:
    return {k: (type(v)(v) if isinstance(v, (set, list, dict)) else v) for k, v in attrs.items()}


def _restore_dict(target: dict, saved: dict) -> None:
    for key in [k for k in target if k not in saved]:
        del target[key]
    for key, value in saved.items():
        if target.get(key, _MISSING) is not value:
            target[key] = value


_MISSING = object()


def _open_fds() -> set[int]:
    # The listing's own descriptor shows too: the lowest free number, the same unless one was left open.
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def _set_title(title: str) -> None:
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    setproctitle(title)
