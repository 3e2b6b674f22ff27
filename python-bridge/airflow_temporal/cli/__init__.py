"""The ``airflow temporal ...`` commands."""
