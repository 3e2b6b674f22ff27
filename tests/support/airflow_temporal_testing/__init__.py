"""Test support of airflow-temporal: the local stack (PostgreSQL, Temporal dev server, Airflow, worker JARs) and
readers of its Temporal histories and Temporal-owned runs, shared by tests/e2e, tests/faults, tests/corpus,
python-bridge/tests and bench/.

Installed editable into the bootstrap venv (scripts/bootstrap.sh), so it is imported, not reached through
sys.path; it finds the repository (worker JAR, example DAGs) from its own location, so only an editable install
of this checkout works.
"""
