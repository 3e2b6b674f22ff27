"""Regenerate the serialized-DAG fixtures read by executor-core's dag tests.

Run with the Python of an Airflow 3.3 virtualenv, from any directory:

    ~/.cache/airflow-temporal/venv-<hash>/bin/python generate.py

Each DAG below is serialized by Airflow's own ``DagSerialization.to_dict`` (what the dag processor
stores in ``serialized_dag.data``) and written as ``<dag_id>.json``. One DAG is also written as
``<dag_id>.json.zlib``, compressed exactly as ``SerializedDagModel.__init__`` does when
``[core] compress_serialized_dags`` is on: ``zlib.compress(json.dumps(data, sort_keys=True))``.
"""

from __future__ import annotations

import os
import sys
import tempfile

# The serializer writes config-derived operator defaults (default queue, retries, ...) into the
# envelope's "client_defaults"; run against a pristine configuration so the fixtures do not depend
# on whoever regenerates them. Config is read once at import, so the DAG that shows site-wide
# defaults is serialized by a second run of this script (see main()).
SITE_DEFAULTS = {"AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "3", "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "site_queue"}
for name in [n for n in os.environ if n.startswith("AIRFLOW__")]:
    del os.environ[name]
if "--site-defaults" in sys.argv:
    os.environ.update(SITE_DEFAULTS)
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")

import datetime  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import zlib  # noqa: E402

import pendulum  # noqa: E402

import airflow  # noqa: E402
from airflow.providers.standard.operators.bash import BashOperator  # noqa: E402
from airflow.providers.standard.operators.empty import EmptyOperator  # noqa: E402
from airflow.sdk import DAG, TaskGroup, dag, task, task_group  # noqa: E402
from airflow.serialization.serialized_objects import DagSerialization  # noqa: E402
from airflow.task.trigger_rule import TriggerRule  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def chain_defaults() -> DAG:
    """Three tasks in a chain, every task argument left at its default."""
    with DAG("chain_defaults", schedule=None, start_date=START) as d:
        EmptyOperator(task_id="extract") >> BashOperator(task_id="transform", bash_command="true") >> (
            EmptyOperator(task_id="load")
        )
    return d


def trigger_rules() -> DAG:
    """One task per trigger rule, each downstream of the same two upstreams."""
    with DAG("trigger_rules", schedule=None, start_date=START) as d:
        upstreams = [EmptyOperator(task_id="up_a"), EmptyOperator(task_id="up_b")]
        for rule in TriggerRule:
            upstreams >> EmptyOperator(task_id=f"rule_{rule.value}", trigger_rule=rule)
    return d


def retries_and_resources() -> DAG:
    """Retry policy, timeouts, pools, queues and priorities, partly from DAG default_args."""
    with DAG(
        "retries_and_resources",
        schedule="*/5 * * * *",
        start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Amsterdam"),
        max_active_tasks=4,
        catchup=False,
        default_args={"retries": 2, "retry_delay": datetime.timedelta(seconds=30), "pool": "etl"},
    ) as d:
        inherits = EmptyOperator(task_id="inherits_default_args")
        backoff = BashOperator(
            task_id="backoff",
            bash_command="exit 1",
            retries=5,
            retry_delay=datetime.timedelta(seconds=10),
            retry_exponential_backoff=2.5,
            max_retry_delay=datetime.timedelta(minutes=10),
            execution_timeout=datetime.timedelta(minutes=3),
        )
        legacy_backoff = EmptyOperator(task_id="legacy_bool_backoff", retry_exponential_backoff=True)
        heavy = BashOperator(
            task_id="heavy",
            bash_command="true",
            pool="big_pool",
            pool_slots=3,
            queue="gpu",
            priority_weight=10,
            weight_rule="absolute",
            retries=0,
        )
        inherits >> [backoff, legacy_backoff] >> heavy
    return d


@dag(dag_id="grouped_mapped_branch", schedule=None, start_date=START, tags=["fixture"])
def grouped_mapped_branch():
    """A branch choosing between a TaskGroup and a dynamically mapped task, then a join."""

    @task.branch
    def choose() -> str:
        return "work.prepare"

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task(retries=1)
    def double(x: int) -> int:
        return 2 * x

    with TaskGroup("work") as work:
        prepare = EmptyOperator(task_id="prepare")
        finish = EmptyOperator(task_id="finish")
        prepare >> finish

    join = EmptyOperator(task_id="join", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    chosen = choose()
    chosen >> work >> join
    chosen >> double.expand(x=numbers()) >> join


@dag(dag_id="nested_mapping", schedule=None, start_date=START, tags=["fixture"])
def nested_mapping():
    """Mapping beyond one level: a task mapped over a mapped task's output, and mapped TaskGroups.

    ``pipeline`` is mapped over ``numbers``; inside it, ``square`` feeds ``label`` and ``note``
    (one_failed), and ``inner``, a mapped TaskGroup nested in it, is upstream of ``label`` (Airflow
    refuses a mapped operator inside a mapped TaskGroup).
    ``collect`` reduces the group outside it; ``add_ten`` maps over mapped ``double``'s output.
    """

    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @task
    def double(x: int) -> int:
        return 2 * x

    @task
    def add_ten(x: int) -> int:
        return x + 10

    @task
    def total(values) -> int:
        return sum(values)

    @task_group
    def pipeline(n: int):
        @task
        def square(n: int) -> int:
            return n * n

        @task
        def label(squared: int, n: int) -> str:
            return f"{n}^2={squared}"

        @task(trigger_rule=TriggerRule.ONE_FAILED)
        def note(squared: int) -> str:
            return "a square failed"

        @task_group
        def inner(m: int):
            @task
            def deep(m: int) -> int:
                return m

            return deep(m)

        squared = square(n)
        labelled = label(squared, n)
        inner.expand(m=[7, 8]) >> labelled
        note(squared)
        return labelled

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def collect(labels) -> list[str]:
        return sorted(labels)

    nums = numbers()
    total(add_ten.expand(x=double.expand(x=nums)))
    collect(pipeline.expand(n=nums))


def site_defaults() -> DAG:
    """Serialized under [core] default_task_retries=3 and [operators] default_queue=site_queue.

    Values equal to those site-wide defaults go to the envelope's "client_defaults", not the task;
    a task that overrides them back to the schema default keeps the value explicitly.
    """
    with DAG("site_defaults", schedule=None, start_date=START) as d:
        EmptyOperator(task_id="uses_site_defaults") >> EmptyOperator(task_id="overrides", retries=0, queue="default")
    return d


def start_from_trigger() -> DAG:
    """Sensors that start in the triggerer (start_from_trigger), one that defers from a worker, and a mapped one.

    Airflow's scheduler defers the first two at once (``TaskInstance.defer_task``); the others start on a
    worker (3.3 does not start mapped tasks from the triggerer).
    """
    from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
    from airflow.providers.standard.sensors.filesystem import FileSensor

    # FileSensor resolves its path through the fs_default connection when it is built.
    os.environ["AIRFLOW_CONN_FS_DEFAULT"] = '{"conn_type": "fs", "extra": {"path": "/data"}}'
    with DAG("start_from_trigger", schedule=None, start_date=START) as d:
        DateTimeSensorAsync(task_id="in_triggerer", target_time=START, start_from_trigger=True,
                            execution_timeout=datetime.timedelta(minutes=10))
        FileSensor(task_id="file_in_triggerer", filepath="/tmp/ready", deferrable=True, start_from_trigger=True,
                   timeout=60)
        DateTimeSensorAsync(task_id="from_worker", target_time=START)
        DateTimeSensorAsync.partial(task_id="mapped", start_from_trigger=True).expand(target_time=[START])
    return d


COMPRESSED = {"chain_defaults"}


def write(built: DAG) -> None:
    data = DagSerialization.to_dict(built)
    # Paths of this checkout and of a throwaway AIRFLOW_HOME say nothing about the DAG.
    data["dag"]["fileloc"] = "generate.py"
    data["dag"]["_processor_dags_folder"] = None
    text = json.dumps(data, sort_keys=True, indent=1)
    (HERE / f"{built.dag_id}.json").write_text(text + "\n")
    if built.dag_id in COMPRESSED:
        compact = json.dumps(data, sort_keys=True).encode("utf-8")
        (HERE / f"{built.dag_id}.json.zlib").write_bytes(zlib.compress(compact))
    print(f"wrote {built.dag_id} ({len(built.tasks)} tasks)")


def main() -> None:
    if not airflow.__version__.startswith("3.3."):
        sys.exit(f"these fixtures describe Airflow 3.3, this is Airflow {airflow.__version__}")
    if "--site-defaults" in sys.argv:
        write(site_defaults())
        return
    for built in (chain_defaults(), trigger_rules(), retries_and_resources(), grouped_mapped_branch(),
                  nested_mapping(), start_from_trigger()):
        write(built)
    subprocess.run([sys.executable, __file__, "--site-defaults"], check=True)


if __name__ == "__main__":
    main()
