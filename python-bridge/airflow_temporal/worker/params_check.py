"""
``python -m airflow_temporal.worker.params_check``: the params check of the worker's ``create_dag_run`` step.

Airflow refuses to create a run whose conf its DAG's params reject (``DAG.create_dagrun``); so does every path
that creates a Temporal-owned run. The worker JAR runs this for a DAG that has params, before it writes the
run: one JSON object on stdin, ``{"params": <the serialized DAG's "params">, "conf": <object or null>}``, one
out, ``{"refusal": <Airflow's ParamValidationError message, or null>}``. It reads nothing else: the worker
starts it without its credentials (``RunnerEnvironment``), as it starts task runners, and deserializing
params imports no DAG code.
"""

from __future__ import annotations

import json
import os
import sys


def refusal(request: dict) -> str | None:
    from airflow.serialization.serialized_objects import BaseSerialization

    from airflow_temporal.params import params_refusal

    return params_refusal(BaseSerialization._deserialize_params_dict(request["params"]), request["conf"])


def main() -> None:
    # Whatever Airflow prints while it loads goes to stderr; stdout carries the answer alone.
    answer = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    answer.write(json.dumps({"refusal": refusal(json.load(sys.stdin))}) + "\n")
    answer.flush()


if __name__ == "__main__":
    main()
