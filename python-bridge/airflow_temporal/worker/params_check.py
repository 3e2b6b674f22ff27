"""
``python -m airflow_temporal.worker.params_check``: the params check of the worker's ``create_dag_run`` step.

Airflow refuses to create a run whose conf its DAG's params reject (``DAG.create_dagrun``); so does every path
that creates a Temporal-owned run. The worker JAR starts this at the first run of a DAG that has params, and it
serves every check after: one JSON line in per check, ``{"params": <the serialized DAG's "params">, "conf": <object
or null>}``, one out, ``{"refusal": <Airflow's ParamValidationError message, or null>}`` or ``{"error": MESSAGE}``
when the check itself failed. Exits at EOF on stdin. It reads nothing else: the worker starts it without its
credentials (``RunnerEnvironment``), as it starts task runners, and deserializing params imports no DAG code.
"""

from __future__ import annotations

import json
import sys

from airflow_temporal.worker import json_lines


def refusal(request: dict) -> str | None:
    from airflow.serialization.serialized_objects import BaseSerialization

    from airflow_temporal.params import params_refusal

    return params_refusal(BaseSerialization._deserialize_params_dict(request["params"]), request["conf"])


def main() -> None:
    replies = json_lines.replies_stream()
    json_lines.serve(lambda line: {"refusal": refusal(json.loads(line))}, sys.stdin, replies)


if __name__ == "__main__":
    main()
