"""The secrets scan: no secret of an Airflow deployment shows where it does not belong.

A stack of its own (real PostgreSQL, Temporal dev server, Airflow 3.3 api-server/scheduler/dag-processor
with the TemporalExecutor, one worker JAR) with planted secrets: a distinctive DB password, a random
`[api_auth] jwt_secret`, a connection password and a sensitive variable. Airflow's simple auth manager
runs with real users (not all-admins), so the API and the plugin need a token.

`e2e_secrets_scan` reads the connection and the variable and prints them, then fails with the password
in its exception. It runs once in executor mode and once as a Temporal-owned run. While its first
task runs, the test reads `/proc/PID/environ` of the task process and of every process between it and
the worker (supervisor, runner, runner server); afterwards it scans the runs' Temporal histories
(every payload decoded, failures included), every component log (worker, scheduler, api-server, ...)
and every task log, and the command line of every process of the stack: none may hold a secret.

The stack runs with the payload codec on (`Stack(codec_key=...)`), so the executor-mode workload token is
looked for too: the raw, encoded history must not show it.

AT_E2E_SECRETS_RUNNER=spawn runs the worker with `--runner spawn` (default: prefork).
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import uuid
from pathlib import Path

import pytest
import requests

from airflow_temporal_testing.owned import start_owned
from airflow_temporal.wire import workflow_id
from airflow_temporal_testing.stack import Stack, WorkerSpec, wait_until

DAG_ID = "e2e_secrets_scan"
CONN_ID = "e2e_scan_conn"
VARIABLE_KEY = "e2e_scan_secret"  # "secret" in the key: Airflow masks its value


def _secret(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(12)}"


@pytest.fixture(scope="module")
def planted():
    return {"DB password": _secret("dbpw"), "JWT secret": _secret("jwtsecret") + secrets.token_hex(16),
            "connection password": _secret("connpw"), "variable value": _secret("varval")}


@pytest.fixture(scope="module")
def secret_stack(planted):
    codec = {"codec_key": base64.b64encode(os.urandom(32)).decode()}
    s = Stack(
        name=(os.environ.get("AT_E2E_STACK_NAME") or "e2e") + "-secrets", ports="free",
        workers=[WorkerSpec(queues="default", identity="default-worker",
                            extra_args=["--runner", os.environ.get("AT_E2E_SECRETS_RUNNER", "prefork")])],
        db_password=planted["DB password"],
        extra_env={"AIRFLOW__API_AUTH__JWT_SECRET": planted["JWT secret"],
                   "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
                   "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                   # On a saturated test machine the api-server can take tens of seconds to answer.
                   "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "120"},
        **codec,
    )
    s.start()
    try:
        token = _login(s)
        s.airflow.session.headers["Authorization"] = f"Bearer {token}"
        s.airflow.request("POST", "/connections", expect=(201,), json={
            "connection_id": CONN_ID, "conn_type": "postgres", "host": "warehouse.invalid", "login": "etl",
            "password": planted["connection password"]})
        s.airflow.request("POST", "/variables", expect=(201,), json={
            "key": VARIABLE_KEY, "value": planted["variable value"]})
        yield s
    finally:
        s.stop()


def _login(stack) -> str:
    """A token for the simple auth manager's `admin`, with the password it generated at start."""
    passwords = Path(stack.airflow_home) / "simple_auth_manager_passwords.json.generated"
    password = wait_until(lambda: passwords.exists() and json.loads(passwords.read_text()).get("admin"), 60,
                          f"{passwords}")
    r = requests.post(f"{stack.airflow_url}/auth/token", json={"username": "admin", "password": password},
                      timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


# ----------------------------------------------------------------------------------------------
def test_the_plugin_page_needs_an_airflow_login_as_the_rest_api_does(secret_stack):
    url = f"{secret_stack.airflow_url}/temporal/dag-runs/{DAG_ID}/manual__1"
    token = secret_stack.airflow.session.headers["Authorization"].split(" ", 1)[1]

    anonymous = requests.get(url, timeout=30)
    assert anonymous.status_code == 401, anonymous.text
    assert requests.get(f"{secret_stack.airflow.api}/dags/{DAG_ID}", timeout=30).status_code == 401  # the same
    assert requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=30).status_code in (401, 403)

    with_token = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert with_token.status_code == 200, with_token.text
    assert "dagrun:e2e_secrets_scan:manual__1" in with_token.text
    # The UI's tab frames the page: the browser sends the session's cookie, not a header.
    framed = requests.get(url, cookies={"_token": token}, timeout=30)
    assert framed.status_code == 200, framed.text


def test_no_secret_in_task_environments_histories_logs_or_command_lines(secret_stack, planted):
    stack = secret_stack
    runs = {}
    environs: dict[str, bytes] = {}

    executor_run = stack.airflow.trigger(DAG_ID)["dag_run_id"]
    environs.update(_task_environments(stack, executor_run))
    runs["executor"] = (executor_run, stack.airflow.wait_for_run(DAG_ID, executor_run, timeout=300))

    owned_run = f"external__secrets_scan_{uuid.uuid4().hex[:8]}"
    owned = start_owned(stack, DAG_ID, "--run-id", owned_run, "--wait")
    try:
        environs.update(_task_environments(stack, owned_run))
        out, _ = owned.communicate(timeout=300)
    finally:
        if owned.poll() is None:
            owned.kill()
    runs["owned"] = (owned_run, stack.airflow.wait_for_run(DAG_ID, owned_run, timeout=60))

    for mode, (run_id, final) in runs.items():
        # Each run really read the secrets (masked in the log) and really failed with the password.
        assert final["state"] == "failed", (mode, final)
        states = stack.airflow.ti_states(DAG_ID, run_id)
        assert states == {"read_secrets": "success", "fail_with_secret": "failed"}, (mode, states)
        log = stack.airflow.log_text(DAG_ID, run_id, "read_secrets", 1)
        assert "connection password: ***" in log and "variable value: ***" in log, (mode, log[-3000:])

    histories = {mode: _history_text(stack, workflow_id(DAG_ID, run_id)) for mode, (run_id, _) in runs.items()}

    # What the scan reads is real: the worker itself (left out of the scan) holds the DB URL and the key.
    worker = {what: text.decode("utf-8", "replace") for what, text in environs.items() if what.endswith("worker")}
    assert worker and all(planted["DB password"] in t and planted["JWT secret"] in t for t in worker.values())
    environs = {what: text for what, text in environs.items() if not what.endswith("worker")}
    places = {f"/proc environ of {what}": text.decode("utf-8", "replace") for what, text in environs.items()}
    places.update({f"Temporal history ({mode}, payloads decoded)": decoded
                   for mode, (decoded, _) in histories.items()})
    places.update(_logs(stack))
    places.update(_command_lines(stack))
    leaks = [f"{name} in {where}" for where, text in places.items() for name, value in planted.items()
             if value in text]
    assert leaks == [], "\n".join(leaks)
    assert len(places) > 10, sorted(places)  # the scan found the task processes, both histories and the logs


def test_with_the_codec_the_workload_token_is_not_readable_in_history(secret_stack):
    stack = secret_stack
    run_id = stack.airflow.trigger(DAG_ID)["dag_run_id"]
    _task_environments(stack, run_id)  # releases the first task
    stack.airflow.wait_for_run(DAG_ID, run_id, timeout=300)
    decoded, raw = _history_text(stack, workflow_id(DAG_ID, run_id))
    tokens = set(re.findall(r'"token":\s*"(eyJ[A-Za-z0-9_.-]+)"', decoded))
    assert tokens, "no workload token in the decoded submit_task payloads"
    assert not any(t.encode() in raw for t in tokens), "a workload token is readable in the encoded history"


# ----------------------------------------------------------------------------------------------
def _task_environments(stack, run_id: str) -> dict[str, bytes]:
    """Waits for `read_secrets` of the run to write its marker, then reads /proc/PID/environ of the task
    process and of each ancestor up to the worker JVM; releases the task. Also the task's own os.environ."""
    base = Path(stack.marker_dir) / re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)
    marker = base.with_suffix(".read_secrets.json")
    try:
        data = wait_until(lambda: marker.exists() and json.loads(marker.read_text()), 240,
                          f"{marker} (read_secrets of {run_id} running)")
        out = {f"{run_id} task os.environ": json.dumps(data["environ"]).encode()}
        pid = data["pid"]
        while pid > 1:
            cmdline = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode("utf-8", "replace").strip()
            if "java" in cmdline.split(" ", 1)[0]:
                out[f"{run_id} pid {pid} worker"] = _read(f"/proc/{pid}/environ")  # holds them by design
                break
            try:
                out[f"{run_id} pid {pid} ({cmdline[:100]})"] = _read(f"/proc/{pid}/environ")
            except PermissionError:  # non-dumpable (Airflow's supervisor) and we are not root: nobody can read it
                pass
            pid = _parent(pid)
        assert pid > 1, f"no worker JVM above the task process of {run_id}: {list(out)}"
        assert len(out) >= 4 or os.geteuid() != 0, list(out)  # os.environ, the task, its supervisor, the worker
        return out
    finally:
        base.with_suffix(".release").write_text("go")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _parent(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat").decode()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _history_text(stack, workflow_id: str) -> tuple[str, bytes]:
    """(every event as JSON plus every payload decoded, the encoded events as Temporal stores them)."""
    from google.protobuf.json_format import MessageToJson
    from temporalio.api.common.v1 import Payload
    from temporalio.client import Client

    codec = None
    if getattr(stack, "codec_key", None):
        from airflow_temporal.codec import AesGcmPayloadCodec, CodecKeys

        codec = AesGcmPayloadCodec(CodecKeys.parse(stack.codec_key))

    def payloads(message):
        if isinstance(message, Payload):
            yield message
            return
        if not hasattr(message, "ListFields"):
            return  # a scalar (e.g. a value of a map<string, string>)
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                values = list(value.values())
            elif hasattr(value, "ListFields"):
                values = [value]
            else:
                values = list(value)  # a repeated message field
            for v in values:
                yield from payloads(v)

    async def go():
        client = await Client.connect(stack.temporal_address, namespace="default")
        texts, raw = [], []
        async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
            history = await client.get_workflow_handle(workflow_id, run_id=execution.run_id).fetch_history()
            for event in history.events:
                raw.append(event.SerializeToString())
                texts.append(MessageToJson(event))
                found = list(payloads(event))
                if codec is not None and found:
                    found = await codec.decode(found)
                texts.extend(p.data.decode("utf-8", "replace") for p in found)
        return "\n".join(texts), b"\n".join(raw)

    decoded, raw = wait_until(lambda: (result := asyncio.run(go()))[0] and result, 60, f"history of {workflow_id}")
    return decoded, raw


def _logs(stack) -> dict[str, str]:
    """Every component log of the stack (worker, scheduler, api-server, ...) and every task log."""
    files = list(stack.log_files()) + [p for p in (Path(stack.airflow_home) / "logs").rglob("*") if p.is_file()]
    return {f"log {p}": p.read_text(errors="replace") for p in files}


def _command_lines(stack) -> dict[str, str]:
    needle = f"AT_STACK_ID={stack.stack_id}".encode()
    out = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle in _read(f"/proc/{pid}/environ").split(b"\0"):
                out[f"command line of pid {pid}"] = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(
                    "utf-8", "replace")
        except OSError:
            continue
    return out
