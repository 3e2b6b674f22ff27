"""Cluster policy of the fidelity-corpus stack (copied to $AIRFLOW_HOME/config/airflow_local_settings.py,
where every Airflow component and task process imports it): a run whose id starts with LOCAL_RUN_PREFIX
runs its task instances on the LocalExecutor, every other run on the stack's default executor (the
TemporalExecutor, first in `[core] executor`). The same DAG file thus runs under both executors in one
stack, unedited.

Airflow applies this hook wherever it creates or refreshes a TaskInstance from its task (DagRun creation
in the api-server, mapped-task expansion and retries in the scheduler: models/dagrun.py,
models/taskmap.py, TaskInstance.refresh_from_task), always after copying `task.executor` into
`ti.executor`; the scheduler then hands the TI to the executor `ti.executor` names
(SchedulerJobRunner._try_to_load_executor). `ti.run_id` is set in all these places, `dag_run` is not."""
from __future__ import annotations

LOCAL_RUN_PREFIX = "corpus_local__"
LOCAL_EXECUTOR = "LocalExecutor"


def task_instance_mutation_hook(task_instance, dag_run=None):
    run_id = task_instance.run_id or getattr(dag_run, "run_id", None)
    if run_id and run_id.startswith(LOCAL_RUN_PREFIX):
        task_instance.executor = LOCAL_EXECUTOR
