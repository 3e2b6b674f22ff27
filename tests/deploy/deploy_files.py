"""What the deployment files' tests share: where the files are, and how to read a flag list."""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
WORKER_JAR = REPO / "temporal-workflows" / "target" / "airflow-temporal-worker.jar"


def flag_values(args: list[str]) -> dict[str, str]:
    """`--name value`, `--name=value` and bare `--name` options of an argument list, by name."""
    values: dict[str, str] = {}
    pending = None
    for arg in args:
        if pending is not None and not arg.startswith("--"):
            values[pending], pending = arg, None
        elif arg.startswith("--"):
            name, eq, value = arg.partition("=")
            values[name] = value
            pending = None if eq else name
    return values
