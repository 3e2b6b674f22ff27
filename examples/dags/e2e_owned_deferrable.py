"""End-to-end test DAG for deferrable tasks on Temporal-owned runs: each defers to a trigger that
Airflow's triggerer runs, and holds no worker slot meanwhile.

* `defer_and_return` defers to a DateTimeTrigger firing conf `defer_seconds` (default 5) after the run
  started, carrying its try number in the deferral's kwargs; resumed with the trigger's event, it
  returns the event, the try it deferred on and the try it resumed on.
* `time_delta` is Airflow's `TimeDeltaSensor(deferrable=True)` (it defers only when its runner starts
  before the run's run_after + 3 s, else it succeeds at once).
* `ended_by_trigger` is `DateTimeSensorAsync(end_from_trigger=True)`: the triggerer itself marks it
  success, no worker resumes it.
* `started_in_triggerer` is `DateTimeSensorAsync(start_from_trigger=True)`, due conf `defer_seconds` after the run
  started: no worker starts it; the scheduler (or, for owned runs, the workflow) defers it at once and a worker
  runs only its `execute_complete` once the trigger fired.
* `ended_in_triggerer` starts and ends in the triggerer (`start_from_trigger` and `end_from_trigger`): no worker
  runs it at all.
* `after_deferrals` runs once all of those are done and passes `defer_and_return`'s result on.
* `times_out` defers to a trigger a day away with a 2-second timeout: Airflow's scheduler times the
  deferral out (`check_trigger_timeouts`, which does not look at the run type), the resumed try fails with
  the timeout, and the sensor's `soft_fail` makes it skipped. It is a leaf, so the run still succeeds.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import BaseOperator, BaseSensorOperator, dag, task

DEFAULT_DEFER_SECONDS = 5


class DeferThenReturn(BaseOperator):
    """Defers once, then returns what it was resumed with."""

    def execute(self, context):
        seconds = int((context["dag_run"].conf or {}).get("defer_seconds", DEFAULT_DEFER_SECONDS))
        moment = context["dag_run"].start_date + timedelta(seconds=seconds)
        self.log.info("deferring until %s", moment.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="resume",
                   kwargs={"deferred_on_try": context["ti"].try_number})

    def resume(self, context, event=None, deferred_on_try=None):
        return {"event": str(event), "deferred_on_try": deferred_on_try,
                "resumed_on_try": context["ti"].try_number}


class DeferPastItsTimeout(BaseSensorOperator):
    """Defers with a timeout far shorter than its trigger's moment."""

    def execute(self, context):
        self.defer(trigger=DateTimeTrigger(moment=context["dag_run"].start_date + timedelta(days=1)),
                   method_name="execute_complete", timeout=timedelta(seconds=2))

    def execute_complete(self, context, event=None):
        return event


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_deferrable():
    deferred = DeferThenReturn(task_id="defer_and_return")
    time_delta = TimeDeltaSensor(task_id="time_delta", delta=timedelta(seconds=3), deferrable=True)
    ended_by_trigger = DateTimeSensorAsync(
        task_id="ended_by_trigger", end_from_trigger=True,
        target_time="{{ (dag_run.start_date + macros.timedelta(seconds=3)).isoformat() }}")

    moment = "{{ (dag_run.start_date + macros.timedelta(seconds=dag_run.conf.get('defer_seconds', %d) | int)).isoformat() }}"
    started_in_triggerer = DateTimeSensorAsync(task_id="started_in_triggerer", start_from_trigger=True,
                                               target_time=moment % DEFAULT_DEFER_SECONDS)
    ended_in_triggerer = DateTimeSensorAsync(
        task_id="ended_in_triggerer", start_from_trigger=True, end_from_trigger=True,
        target_time="{{ (dag_run.start_date + macros.timedelta(seconds=3)).isoformat() }}")

    @task
    def after_deferrals(result: dict) -> str:
        return f"resumed on try {result['resumed_on_try']} after deferring on try {result['deferred_on_try']}"

    [time_delta, ended_by_trigger, started_in_triggerer, ended_in_triggerer] >> after_deferrals(deferred.output)
    DeferPastItsTimeout(task_id="times_out", soft_fail=True)


e2e_owned_deferrable()
