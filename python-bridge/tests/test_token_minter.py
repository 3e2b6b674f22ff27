"""``python -m airflow_temporal.worker.token_minter`` signs the tokens Airflow's Execution API accepts, with the
worker's key, and names the setting when there is no key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import jwt

SECRET = "token-minter-test-secret-0123456789"


def mint(tmp_path, lines: list[str], **env: str) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_temporal.worker.token_minter"], input="".join(f"{line}\n" for line in lines),
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), **env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_tokens_are_the_schedulers_workload_tokens_signed_with_the_configured_secret(tmp_path):
    ti_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    replies = mint(tmp_path, ti_ids, AIRFLOW__API_AUTH__JWT_SECRET=SECRET,
                   AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT="120")
    assert len(replies) == 2
    for ti_id, reply in zip(ti_ids, replies):
        claims = jwt.decode(reply["token"], SECRET, algorithms=["HS512"], audience="urn:airflow.apache.org:task")
        assert claims["sub"] == ti_id and claims["scope"] == "workload"
        assert claims["exp"] - claims["iat"] == 120


def test_without_a_signing_key_each_request_gets_the_setting_to_fix(tmp_path):
    replies = mint(tmp_path, [str(uuid.uuid4())], AIRFLOW__API_AUTH__JWT_SECRET="")
    assert "token" not in replies[0]
    assert "[api_auth] jwt_secret" in replies[0]["error"]


def test_a_request_that_is_no_task_instance_id_is_refused(tmp_path):
    (reply,) = mint(tmp_path, ["../../etc/passwd"], AIRFLOW__API_AUTH__JWT_SECRET=SECRET)
    assert reply == {"error": "not a task instance id (a UUID): '../../etc/passwd'"}
