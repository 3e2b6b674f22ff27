"""A DAG run's conf checked against the DAG's params as Airflow checks it when it creates a run.

One implementation for every path that creates a Temporal-owned run: ``airflow temporal trigger`` calls it
before contacting Temporal, and the worker's ``create_dag_run`` step calls it (through
``python -m airflow_temporal.worker.params_check``) for the Java ``trigger`` command and Temporal Schedules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.serialization.definitions.param import SerializedParamsDict


def params_refusal(params: SerializedParamsDict, conf: Mapping[str, Any] | None) -> str | None:
    """`DAG.create_dagrun`'s `params.deep_merge(conf).validate()`: its ParamValidationError's message, or None."""
    from airflow.exceptions import ParamValidationError

    try:
        params.deep_merge(conf).validate()
    except ParamValidationError as e:
        return str(e)
    return None
