"""Fixtures for the deployment files' tests (deploy/): what the worker JAR itself accepts, so that a
unit file or manifest naming a flag the worker does not have fails here rather than at a deploy."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from deploy_files import WORKER_JAR


@pytest.fixture(scope="session")
def worker_help() -> str:
    """`worker --help` of the built JAR (`mvn -B package` or bootstrap builds it)."""
    if not WORKER_JAR.exists():
        pytest.fail(f"{WORKER_JAR} is missing: build it (mvn -B -DskipTests package)")
    result = subprocess.run([shutil.which("java") or "java", "-jar", str(WORKER_JAR), "worker", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def worker_flags(worker_help) -> set[str]:
    """Every long option of `worker`, both forms of a negatable one (`--[no-]schedules`)."""
    flags = set()
    for prefix, negatable, name in re.findall(r"(--)(\[no-\])?([a-z][a-z-]*)", worker_help):
        flags.add(f"--{name}")
        if negatable:
            flags.add(f"--no-{name}")
    return flags
