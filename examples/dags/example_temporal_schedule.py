"""A DAG that opts in to Temporal Schedules with the tag `temporal` (see docs/schedules.md).

Its daily cron timetable is mirrored by the Temporal Schedule `airflow-dag:example_temporal_schedule`
while the DAG is unpaused; like every DAG it is created paused, so it runs nothing until unpaused.
The tasks only run `true`.
"""
from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import dag


@dag(schedule="0 3 * * *", start_date=datetime(2024, 1, 1), catchup=False, tags=["temporal", "example"])
def example_temporal_schedule():
    BashOperator(task_id="extract", bash_command="true") >> BashOperator(task_id="load", bash_command="true")


example_temporal_schedule()
