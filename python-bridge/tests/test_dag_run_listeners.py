"""``python -m airflow_temporal.worker.dag_run_listeners`` stays to serve the worker only where a listener plugin
implements a DagRun hook (the hooks called for a real run: tests/e2e/test_e2e_owned_listeners.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

REQUESTS = [{"dag_id": "d", "run_id": "r1", "state": "running", "msg": "started"},
            {"dag_id": "d", "run_id": "r1", "state": "success", "msg": "success"}]

PLUGIN = '''
from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin


class Listener:
    @hookimpl
    def {hook}(self, {args}):
        pass


class ListenerPlugin(AirflowPlugin):
    name = "test_listener"
    listeners = [Listener()]
'''


def serve(tmp_path, plugin: str | None) -> subprocess.CompletedProcess:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    if plugin is not None:
        (plugins / "listener_plugin.py").write_text(plugin)
    return subprocess.run(
        [sys.executable, "-m", "airflow_temporal.worker.dag_run_listeners"],
        input="".join(json.dumps(r) + "\n" for r in REQUESTS), capture_output=True, text=True, timeout=120,
        # No example plugins: with load_examples Airflow loads its example event listener, which has DagRun hooks.
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins),
             "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})


def test_without_a_listener_plugin_the_first_request_learns_there_is_no_hook_and_the_process_exits(tmp_path):
    done = serve(tmp_path, None)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"called": False, "dag_run_hooks": False}]


def test_a_listener_plugin_without_dag_run_hooks_is_no_reason_to_stay(tmp_path):
    done = serve(tmp_path, PLUGIN.format(hook="on_task_instance_success", args="previous_state, task_instance"))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"called": False, "dag_run_hooks": False}]


def test_a_listener_plugin_with_a_dag_run_hook_gets_every_request_served(tmp_path):
    done = serve(tmp_path, PLUGIN.format(hook="on_dag_run_success", args="dag_run, msg"))
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    # Each request answered (an error where this test's AIRFLOW_HOME has no DB tables), none says "no hooks".
    assert len(replies) == 2 and all("dag_run_hooks" not in r for r in replies), replies
