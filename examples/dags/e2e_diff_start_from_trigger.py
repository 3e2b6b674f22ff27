"""Differential test DAG: sensors that start in Airflow's triggerer (`start_from_trigger=True`). Airflow's
scheduler defers each at once (`DagRun.schedule_tis` -> `TaskInstance.defer_task`: a trigger row, the TI deferred
at try 1, no executor); Temporal-owned runs must do the same in their workflow.

* `past_moment`: a DateTimeSensorAsync whose moment is long past: the trigger fires at once and a worker resumes
  the task with `execute_complete`.
* `templated_moment`: its target_time, a template, is rendered by the triggerer (Airflow 3.3): 3 s after the run
  started; resumed on a worker as well.
* `times_out`: a moment far away, but an execution_timeout of 2 s: the deferral's trigger_timeout is start + 2 s,
  Airflow's scheduler times it out (`check_trigger_timeouts`), the resumed try fails with the timeout and the
  sensor's `soft_fail` makes it skipped.
* `after_triggers` runs once the first two are done and returns a value through XCom.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_start_from_trigger():
    past = DateTimeSensorAsync(task_id="past_moment", start_from_trigger=True,
                               target_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    templated = DateTimeSensorAsync(
        task_id="templated_moment", start_from_trigger=True,
        target_time="{{ (dag_run.start_date + macros.timedelta(seconds=3)).isoformat() }}")
    DateTimeSensorAsync(task_id="times_out", start_from_trigger=True, soft_fail=True,
                        target_time=datetime(2099, 1, 1, tzinfo=timezone.utc),
                        execution_timeout=timedelta(seconds=2))

    @task
    def after_triggers() -> str:
        return "both sensors resumed"

    [past, templated] >> after_triggers()


e2e_diff_start_from_trigger()
