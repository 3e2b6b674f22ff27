"""The params check every Temporal-owned run's creation goes through (`airflow_temporal.params`), as the
worker's `create_dag_run` step runs it: `python -m airflow_temporal.worker.params_check` (one long-lived process
per worker) on a serialized DAG's params, which Airflow itself serialized."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from airflow.sdk import DAG, Param
from airflow.serialization.serialized_objects import DagSerialization

from airflow_temporal.worker import params_check


def _serialized_params(dag) -> list:
    """The `params` of the DAG's serialized form, as the worker reads it from `serialized_dag.data`."""
    return json.loads(json.dumps(DagSerialization.to_dict(dag)))["dag"].get("params", [])


def _params_dag(**params):
    with DAG("params_dag", schedule=None, params=params) as dag:
        pass
    return dag


def _refusal(dag, conf):
    return params_check.refusal({"params": _serialized_params(dag), "conf": conf})


def test_a_required_param_without_a_value_is_refused_with_airflows_message():
    refusal = _refusal(_params_dag(name=Param(type="string")), {})
    assert refusal is not None and "Invalid input for param name" in refusal, refusal


def test_a_missing_conf_is_checked_as_an_empty_one():
    refusal = _refusal(_params_dag(name=Param(type="string")), None)
    assert refusal is not None and "Invalid input for param name" in refusal, refusal


def test_a_conf_value_that_breaks_its_params_schema_is_refused():
    refusal = _refusal(_params_dag(count=Param(5, type="integer", minimum=1)), {"count": 0})
    assert refusal is not None and "Invalid input for param count" in refusal, refusal


def test_a_conf_that_satisfies_the_params_is_accepted_and_unknown_keys_pass_as_in_airflow():
    dag = _params_dag(name=Param(type="string"), count=Param(5, type="integer"), plain="text")
    assert _refusal(dag, {"name": "x", "count": 2, "other": [1]}) is None


def test_airflows_params_ui_tutorial_is_refused_without_conf_as_its_rest_trigger_is():
    import airflow.example_dags
    from airflow.dag_processing.dagbag import DagBag

    folder = Path(airflow.example_dags.__file__).parent
    bag = DagBag(dag_folder=str(folder / "example_params_ui_tutorial.py"))
    refusal = _refusal(bag.dags["example_params_ui_tutorial"], {})
    assert refusal is not None and "Invalid input for param" in refusal, refusal


def test_one_process_answers_each_check_with_airflows_refusal_or_none_and_survives_a_bad_request():
    params = _serialized_params(_params_dag(name=Param(type="string")))
    requests = [{"params": params, "conf": {"name": 3}}, {"params": params}, {"params": params, "conf": {"name": "x"}}]
    done = subprocess.run([sys.executable, "-m", "airflow_temporal.worker.params_check"],
                          input="".join(json.dumps(r) + "\n" for r in requests),
                          capture_output=True, text=True, timeout=120, check=True)
    refused, bad, accepted = map(json.loads, done.stdout.splitlines())
    assert refused["refusal"].startswith("Invalid input for param name: 3 is not of type 'string'"), refused
    assert bad == {"error": "KeyError: 'conf'"}, bad
    assert accepted == {"refusal": None}, accepted
