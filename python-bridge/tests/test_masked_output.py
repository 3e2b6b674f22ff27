"""A spawned runner (``python -m airflow_temporal.worker.masked_output MODULE ...``) writes only the masked tail of
its output, once the module has returned. The forked runners' side is in test_runner_server.py."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

TARGET = textwrap.dedent("""
    import sys
    from airflow.sdk.log import mask_secret
    mask_secret(sys.argv[1])  # as Airflow's supervisor does for the connections it hands to the task
    for i in range(20000):  # more than the tail the worker keeps
        print(f"line {i}")
    print(f"dsn=etl:{sys.argv[1]}@warehouse")
    print("exiting", file=sys.stderr)
    sys.exit(3)
""")


def test_a_spawned_runner_writes_the_masked_tail_of_its_output_and_keeps_its_exit_code(tmp_path):
    (tmp_path / "spawn_target.py").write_text(TARGET)
    bridge = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-m", "airflow_temporal.worker.masked_output", "spawn_target", "s3cr3t-in-the-tail"],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), bridge]), "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 3
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["dsn=etl:***@warehouse", "exiting"]
    assert lines[0].startswith("line ") and "line 0" not in lines  # the tail, from a line start
    assert "s3cr3t-in-the-tail" not in result.stdout
