"""The Airflow plugin of the api-server: the per-run link to the Temporal UI."""
