"""Airflow's own example DAGs of dynamic task mapping, as the installed Airflow ships them
(airflow/example_dags/example_dynamic_task_mapping.py): example_dynamic_task_mapping,
example_task_mapping_second_order (a task mapped over a mapped task's output) and
example_task_group_mapping (a mapped TaskGroup). The stacks run with load_examples off, so this file
registers them: Airflow's DAG processor adopts every DAG a `with DAG(...)` block creates while it
imports this file, with this file as its fileloc.
"""
from __future__ import annotations

import importlib
import sys

_EXAMPLES = "airflow.example_dags.example_dynamic_task_mapping"

# A process that parsed this file before has the module already: run it again so the DAGs register.
if _EXAMPLES in sys.modules:
    importlib.reload(sys.modules[_EXAMPLES])
else:
    importlib.import_module(_EXAMPLES)
