"""The pre-forked runner server, for real: a server process, its socket, and the pooled runners it forks.

Most tests run a small target module (allowed with the ``--allow-module`` test hook, Airflow not
preloaded) that reports what its process looks like; one runs the real runner modules from a
server that preloaded Airflow.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parents[1]

TARGET = textwrap.dedent("""
    import json, logging, os, signal, sys, threading, time, warnings
    args = sys.argv[1:]
    def opt(name):
        return args[args.index(name) + 1] if name in args else None
    def state():
        umask = os.umask(0)
        os.umask(umask)
        settings = sys.modules.get("airflow.settings")
        masker = sys.modules.get("airflow.sdk._shared.secrets_masker")
        structlog = sys.modules.get("structlog")
        return {
            "env": os.environ.get("AT_POLLUTED"), "cwd": os.getcwd(), "umask": umask,
            "sigusr1": repr(signal.getsignal(signal.SIGUSR1)),
            "root_handlers": [type(h).__name__ for h in logging.getLogger().handlers],
            "polluted_logger_level": logging.getLogger("at.polluted").level,
            "sys_path_polluted": "/polluted" in sys.path, "warning_filters": len(warnings.filters),
            "settings_engine": type(getattr(settings, "engine", None)).__name__,
            "settings_polluted": hasattr(settings, "AT_POLLUTED"),
            "mask_patterns": sorted(masker._secrets_masker().patterns) if masker else None,
            "structlog_processors": len(structlog.get_config()["processors"]) if structlog else None,
        }
    if "--pollute" in args:
        os.environ["AT_POLLUTED"] = "1"
        os.chdir("/")
        os.umask(0o077)
        signal.signal(signal.SIGUSR1, lambda *_: None)
        logging.getLogger().addHandler(logging.StreamHandler())
        logging.getLogger("at.polluted").setLevel(logging.DEBUG)
        sys.path.append("/polluted")
        warnings.filterwarnings("error")
        if "airflow.settings" in sys.modules:
            sys.modules["airflow.settings"].AT_POLLUTED = True
            sys.modules["airflow.settings"].engine = "polluted"
        if "structlog" in sys.modules:
            sys.modules["structlog"].configure(processors=[])
    if "--catch-sigterm" in args:
        # As Airflow's supervisor does while it waits for its task process: catch, forward, carry on.
        signal.signal(signal.SIGTERM, lambda *_: None)
    if "--leave-thread" in args:
        threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
    if opt("--report"):
        fds = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                pass
        json.dump({
            "pid": os.getpid(), "sid": os.getsid(0), "pgid": os.getpgid(0), "name": __name__,
            "argv": sys.argv, "fds": fds,
            "sigterm_default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
            "sigchld_default": signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL,
            "sigint_python": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
            "stdin": os.readlink("/proc/self/fd/0"), "state": state(),
        }, open(opt("--report"), "w"))
    if opt("--grandchild"):
        # As Airflow's supervisor forks the task process: in a process group of its own.
        child = os.fork()
        if child == 0:
            os.setpgid(0, 0)
            time.sleep(120)
            os._exit(0)
        open(opt("--grandchild"), "w").write(str(child))
    if opt("--mask"):
        from airflow.sdk.log import mask_secret
        mask_secret(opt("--mask"))
    if opt("--print"):
        print(opt("--print"))
        print("on stderr", file=sys.stderr)
    if opt("--sleep"):
        time.sleep(float(opt("--sleep")))
    if opt("--finish"):
        open(opt("--finish"), "w").close()
    if "--kill-self" in args:
        os.kill(os.getpid(), signal.SIGKILL)
    if "--raise" in args:
        raise ValueError("boom")
    if opt("--exit"):
        sys.exit(int(opt("--exit")))
""")


class RunnerServerProcess:
    def __init__(self, directory: Path, *extra: str, stdin=subprocess.DEVNULL, env: dict | None = None):
        self.socket_path = str(directory / "runner.sock")
        targets = directory / "targets"
        targets.mkdir(exist_ok=True)
        (targets / "prefork_target.py").write_text(TARGET)
        python_path = os.pathsep.join([str(targets), str(BRIDGE), os.environ.get("PYTHONPATH", "")])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_temporal.worker.runner_server", "--socket", self.socket_path,
             "--allow-module", "prefork_target", *extra],
            env={**os.environ, "PYTHONPATH": python_path, **(env or {})}, stdin=stdin, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                assert self.request({"ping": True}) == [{"pong": self.process.pid}]
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start: {self.process.stderr.read()}") from None
                time.sleep(0.1)

    def request(self, message: dict) -> list[dict]:
        """Sends one request and returns the reply lines up to the last one (pong, error or exit code),
        then closes the connection, as the worker does."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(60)
            sock.connect(self.socket_path)
            sock.sendall(json.dumps(message).encode() + b"\n")
            replies = []
            with sock.makefile("rb") as lines:
                for line in lines:
                    replies.append(json.loads(line))
                    if set(replies[-1]) & {"pong", "error", "exit_code"}:
                        break
            return replies

    def run(self, output: Path, *args: str, module: str = "prefork_target") -> tuple[int, int]:
        """(pid, exit code) of one forked run."""
        replies = self.request({"argv": ["-m", module, *args], "output": str(output)})
        assert [list(r) for r in replies] == [["pid"], ["exit_code"]], replies
        return replies[0]["pid"], replies[1]["exit_code"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process.stderr.close()


@pytest.fixture
def short_dir():
    # A Unix socket path must fit in 108 bytes; pytest's tmp_path may not.
    with tempfile.TemporaryDirectory(prefix="rs-") as d:
        yield Path(d)


@pytest.fixture
def server(short_dir):
    s = RunnerServerProcess(short_dir, "--no-preload")
    yield s
    s.stop()


def report(server: RunnerServerProcess, directory: Path, *args: str) -> dict:
    path = directory / "report.json"
    pid, code = server.run(directory / "out.txt", "--report", str(path), *args)
    assert code == 0
    data = json.loads(path.read_text())
    assert data["pid"] == pid
    return data


def zombies_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z" and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def test_the_socket_is_private(server):
    assert stat.S_IMODE(os.stat(server.socket_path).st_mode) == 0o600


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--exit", "3"), 3), (("--raise",), 1), (("--kill-self",), 137)])
def test_the_exit_code_is_the_childs_as_a_spawned_interpreter_would_give_it(server, short_dir, args, code):
    _, exit_code = server.run(short_dir / "out.txt", *args)
    assert exit_code == code


def test_stdout_and_stderr_go_to_the_named_file_created_private(server, short_dir):
    output = short_dir / "out.txt"
    _, code = server.run(output, "--print", "hello", "--raise")
    assert code == 1
    text = output.read_text()
    assert "hello\n" in text and "on stderr\n" in text
    assert "ValueError: boom" in text and "Traceback" in text
    assert "RuntimeWarning" not in text
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_the_output_file_gets_the_tail_through_airflows_secrets_masker(server, short_dir):
    output = short_dir / "out.txt"
    _, code = server.run(output, "--mask", "s3cr3t-conn-password", "--print", "dsn=me:s3cr3t-conn-password@db",
                         "--raise")
    assert code == 1
    text = output.read_text()
    assert "dsn=me:***@db\n" in text and "ValueError: boom" in text
    assert "s3cr3t-conn-password" not in text


def test_a_child_killed_before_its_end_leaves_no_unmasked_output(server, short_dir):
    output = short_dir / "out.txt"
    output.write_text("left by an earlier attempt\n")
    _, code = server.run(output, "--print", "s3cr3t-not-yet-masked", "--kill-self")
    assert code == 137
    assert output.read_text() == ""


def test_the_child_runs_the_module_as_main_with_its_argv(server, short_dir):
    data = report(server, short_dir, "--extra")
    assert data["name"] == "__main__"
    assert data["argv"][0].endswith("prefork_target.py")
    assert data["argv"][1:] == ["--report", str(short_dir / "report.json"), "--extra"]


def test_the_runner_has_its_own_session_default_signals_and_no_server_socket(server, short_dir):
    data = report(server, short_dir)
    assert data["sid"] == data["pid"] == data["pgid"]
    assert data["sigterm_default"] and data["sigchld_default"] and data["sigint_python"]
    assert data["stdin"] == "/dev/null"
    # Neither the listening socket nor any client connection nor the wakeup pipe leaks into it.
    server_fds = Path(f"/proc/{server.process.pid}/fd")
    server_ends = {os.readlink(fd) for fd in server_fds.iterdir()}
    leaked = {fd: target for fd, target in data["fds"].items()
              if target.startswith(("socket:", "pipe:")) and target in server_ends}
    assert leaked == {}


def test_many_children_run_at_once(server, short_dir):
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: server.run(short_dir / f"out{i}.txt", "--sleep", "2"), range(8)))
    assert len({pid for pid, _ in results}) == 8
    assert all(code == 0 for _, code in results)
    assert time.monotonic() - started < 2 * 8 / 2


def test_the_server_survives_crashing_runners_and_reaps_every_one(server, short_dir):
    pids = [server.run(short_dir / "out.txt", *args)[0] for args in (("--kill-self",), ("--raise",), ("--exit", "7"))]
    assert not _alive(pids[0])
    assert zombies_of(server.process.pid) == []
    assert server.request({"ping": True}) == [{"pong": server.process.pid}]


def test_an_attempt_whose_client_went_away_runs_to_its_end_and_its_runner_serves_the_next(server, short_dir):
    finished = short_dir / "finished"
    sock, pid = _fork_without_waiting(server, short_dir / "gone.txt", "--sleep", "0.5", "--finish", str(finished))
    sock.close()
    deadline = time.monotonic() + 60
    while not finished.exists():
        assert time.monotonic() < deadline, "the attempt did not run to its end"
        time.sleep(0.1)
    deadline = time.monotonic() + 60
    while (next_pid := server.run(short_dir / "out.txt")[0]) != pid:
        # The runner may still be finishing the attempt: the next one then got another runner.
        assert time.monotonic() < deadline, "the runner never came back to the pool"
        time.sleep(0.1)


def test_one_runner_runs_attempt_after_attempt(server, short_dir):
    pids = {server.run(short_dir / "out.txt", *args)[0] for args in ((), ("--exit", "3"), ("--raise",), ())}
    assert len(pids) == 1


def test_an_attempt_starts_from_the_state_the_runner_joined_the_pool_with(server, short_dir):
    before = report(server, short_dir)
    polluted = report(server, short_dir, "--pollute")
    after = report(server, short_dir)
    assert before["pid"] == polluted["pid"] == after["pid"]
    assert polluted["state"] != before["state"]  # the pollution took, in its own attempt
    assert after["state"] == before["state"]


def test_a_runner_that_was_sent_a_stop_signal_leaves_the_pool(server, short_dir):
    pid_file = short_dir / "runner"
    sock, pid = _fork_without_waiting(server, short_dir / "out.txt", "--catch-sigterm", "--report", str(pid_file),
                                      "--sleep", "2")
    _wait_for_pid_file_json(pid_file)
    os.kill(pid, signal.SIGTERM)  # caught, as Airflow's supervisor catches it: the attempt ends normally
    assert json.loads(sock.makefile("rb").readline()) == {"exit_code": 0}
    sock.close()
    assert _wait_gone([pid]) == []
    assert server.run(short_dir / "out.txt")[0] != pid
    assert "leaves the pool: stopped by SIGTERM" in _stderr_so_far(server)


def test_a_runner_whose_attempt_left_a_thread_behind_leaves_the_pool(server, short_dir):
    pid, code = server.run(short_dir / "out.txt", "--leave-thread")
    assert code == 0
    assert _wait_gone([pid]) == []
    assert server.run(short_dir / "out.txt")[0] != pid


def test_a_runner_is_not_reused_before_its_client_closes_the_connection(server, short_dir):
    sock, pid = _fork_without_waiting(server, short_dir / "out.txt")
    assert json.loads(sock.makefile("rb").readline()) == {"exit_code": 0}
    # Until the client closes, it may still signal the pid it was told: the runner must not take
    # another attempt meanwhile.
    assert server.run(short_dir / "other.txt")[0] != pid
    sock.close()


def test_killing_one_attempts_tree_stops_that_attempt_only(server, short_dir):
    sock_a, runner_a = _fork_without_waiting(server, short_dir / "a.txt", "--grandchild", str(short_dir / "task_a"),
                                             "--sleep", "120")
    sock_b, runner_b = _fork_without_waiting(server, short_dir / "b.txt", "--grandchild", str(short_dir / "task_b"),
                                             "--sleep", "3")
    task_a = _wait_for_pid_file(short_dir / "task_a")
    task_b = _wait_for_pid_file(short_dir / "task_b")
    # What the worker does on cancel: SIGTERM to the runner's descendants and the runner.
    for pid in (task_a, runner_a):
        os.kill(pid, signal.SIGTERM)
    assert json.loads(sock_a.makefile("rb").readline()) == {"exit_code": 128 + signal.SIGTERM}
    assert _wait_gone([runner_a, task_a]) == []
    assert _alive(runner_b) and _alive(task_b)
    assert json.loads(sock_b.makefile("rb").readline()) == {"exit_code": 0}
    for sock in (sock_a, sock_b):
        sock.close()
    os.kill(task_b, signal.SIGKILL)  # the target's grandchild outlives its attempt; Airflow's task process does not
    assert server.run(short_dir / "c.txt")[0] == runner_b


def test_idle_runners_leave_the_pool(short_dir):
    s = RunnerServerProcess(short_dir, "--no-preload", "--idle-seconds", "0.5")
    try:
        pid, _ = s.run(short_dir / "out.txt")
        assert _wait_gone([pid]) == []
        assert zombies_of(s.process.pid) == []
    finally:
        s.stop()


@pytest.mark.parametrize(("message", "problem"), [
    ({"argv": ["-m", "os"], "output": "/tmp/x"}, "module os is not one this server runs"),
    ({"argv": ["-c", "print(1)"], "output": "/tmp/x"}, "argv must be"),
    ({"argv": ["-m", "prefork_target"], "output": "relative"}, "output must be an absolute file path"),
    ([1], "not a JSON object"),
])
def test_a_bad_request_is_refused(server, message, problem):
    replies = server.request(message)
    assert len(replies) == 1 and problem in replies[0]["error"]


def test_the_server_exits_when_its_stdin_closes(short_dir):
    s = RunnerServerProcess(short_dir, "--no-preload", "--exit-with-stdin", stdin=subprocess.PIPE)
    try:
        s.process.stdin.close()
        assert s.process.wait(10) == 0
        assert not os.path.exists(s.socket_path)
    finally:
        s.stop()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: list[int], timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _fork_without_waiting(s: RunnerServerProcess, output: Path, *args: str) -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(s.socket_path)
    sock.sendall(json.dumps({"argv": ["-m", "prefork_target", *args], "output": str(output)}).encode() + b"\n")
    return sock, json.loads(sock.makefile("rb").readline())["pid"]


def _wait_for_pid_file_json(path: Path) -> dict:
    deadline = time.monotonic() + 60
    while True:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            assert time.monotonic() < deadline, "the attempt never reported"
            time.sleep(0.1)


def _stderr_so_far(s: RunnerServerProcess) -> str:
    os.set_blocking(s.process.stderr.fileno(), False)
    return s.process.stderr.read() or ""


def _wait_for_pid_file(path: Path) -> int:
    deadline = time.monotonic() + 60
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the runner never forked its task process"
        time.sleep(0.1)
    return int(path.read_text())


def test_pooled_runners_busy_or_idle_and_their_task_processes_die_when_the_worker_exits(short_dir):
    worker = subprocess.Popen(["sleep", "300"])  # stands in for the worker JVM, killed -9 below
    s = RunnerServerProcess(short_dir, "--no-preload", "--worker-pid", str(worker.pid))
    try:
        sock, runner = _fork_without_waiting(s, short_dir / "out.txt", "--grandchild", str(short_dir / "task"),
                                             "--sleep", "120")
        idle, _ = s.run(short_dir / "idle.txt")  # another runner, idle from now on
        assert runner != idle
        task = _wait_for_pid_file(short_dir / "task")
        worker.kill()
        worker.wait()
        assert _wait_gone([runner, task, idle]) == []
        sock.close()
    finally:
        worker.kill()
        s.stop()


def test_pooled_runners_finish_their_attempt_and_exit_when_the_runner_server_dies(short_dir):
    s = RunnerServerProcess(short_dir, "--no-preload", "--worker-pid", str(os.getpid()))
    finished = short_dir / "finished"
    try:
        sock, runner = _fork_without_waiting(s, short_dir / "out.txt", "--sleep", "2", "--finish", str(finished))
        idle, _ = s.run(short_dir / "idle.txt")  # another runner, idle from now on
        s.process.kill()
        s.process.wait()
        deadline = time.monotonic() + 60
        while not finished.exists():
            assert time.monotonic() < deadline, "the runner died with its server"
            time.sleep(0.1)
        assert _wait_gone([runner, idle]) == []
        sock.close()
    finally:
        s.stop()


def test_a_server_tied_to_its_worker_ignores_sigterm_so_the_worker_can_drain(short_dir):
    s = RunnerServerProcess(short_dir, "--no-preload", "--exit-with-stdin", stdin=subprocess.PIPE)
    try:
        s.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the signal is handled at once; a server that obeyed it would be gone by now
        assert s.request({"ping": True}) == [{"pong": s.process.pid}]
        assert s.run(short_dir / "out.txt", "--exit", "0")[1] == 0
    finally:
        s.process.stdin.close()
        s.process.wait(10)
        s.stop()


def test_a_spawned_runner_and_its_task_process_die_when_the_worker_exits(short_dir):
    targets = short_dir / "targets"
    targets.mkdir()
    (targets / "prefork_target.py").write_text(TARGET)
    worker = subprocess.Popen(["sleep", "300"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(targets), str(BRIDGE), os.environ.get("PYTHONPATH", "")])}
    runner = subprocess.Popen(
        [sys.executable, "-m", "airflow_temporal.worker.masked_output", "--worker-pid", str(worker.pid), "prefork_target",
         "--grandchild", str(short_dir / "task"), "--sleep", "120"], env=env)
    try:
        task = _wait_for_pid_file(short_dir / "task")
        worker.kill()
        assert runner.wait(60) == -signal.SIGKILL
        assert _wait_gone([task]) == []
    finally:
        worker.kill()
        runner.kill()


def test_the_server_stops_on_sigterm_and_removes_its_socket(server):
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(10) == 0
    assert not os.path.exists(server.socket_path)


def test_a_preloading_server_runs_the_real_runner_modules_one_after_another_in_one_runner(short_dir):
    """Both runners refuse a missing workload file: proof that each module ran as ``python -m`` does.
    Airflow's settings, its secrets masker and structlog, preloaded, come back between attempts."""
    s = RunnerServerProcess(short_dir, env={"AIRFLOW_HOME": str(short_dir)})
    try:
        missing = str(short_dir / "missing.json")
        owned_pid, code = s.run(short_dir / "owned.txt", "--json-path", missing,
                                module="airflow_temporal.worker.task_runner")
        assert code == 2
        assert "python -m airflow_temporal.worker.task_runner: error: cannot read the workload file" in \
            (short_dir / "owned.txt").read_text()
        executor_pid, code = s.run(short_dir / "executor.txt", "--json-path", missing,
                                   module="airflow.sdk.execution_time.execute_workload")
        assert code == 1
        assert "Failed to read file" in (short_dir / "executor.txt").read_text()
        assert executor_pid == owned_pid

        before = report(s, short_dir)
        report(s, short_dir, "--pollute", "--mask", "s3cr3t-of-one-attempt")
        after = report(s, short_dir)
        assert before["pid"] == after["pid"] == owned_pid
        assert before["state"]["settings_engine"] != "str" and before["state"]["structlog_processors"]
        assert after["state"] == before["state"]
        # The next attempt's output is not masked with the previous attempt's secret.
        _, code = s.run(short_dir / "out.txt", "--print", "s3cr3t-of-one-attempt", "--raise")
        assert "s3cr3t-of-one-attempt" in (short_dir / "out.txt").read_text()
    finally:
        s.stop()
