"""``airflow_temporal.executor.TemporalExecutor``: the name deployments set in ``[core] executor``.

The executor lives in :mod:`airflow_temporal.executors.temporal_executor` (the package is laid out by process
role, as Airflow's providers are); this alias keeps every airflow.cfg, env var and DAG that names the old path
working.
"""
from airflow_temporal.executors.temporal_executor import TemporalExecutor

__all__ = ["TemporalExecutor"]
