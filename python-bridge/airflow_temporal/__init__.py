"""Apache Airflow executor backed by Temporal: one durable workflow per DagRun."""

__version__ = "0.1.0"
