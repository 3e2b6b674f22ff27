"""End-to-end test DAG for sensors in reschedule mode on Temporal-owned runs.

`ready_after_three_pokes` is not ready on its first three pokes (each frees its worker slot and is
rescheduled: Airflow writes one task_reschedule row per reschedule) and ready on the fourth, returning
how many reschedules it had seen; `after_sensor` passes that on. `never_ready` is never ready: its
`timeout` (measured by the sensor itself from its first reschedule's start) runs out after a few pokes
and `soft_fail` makes it skipped, so `after_soft_fail` is skipped too, and the run still succeeds.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import PokeReturnValue, dag, task

POKE_INTERVAL_SECONDS = 2
READY_AFTER_RESCHEDULES = 3
NEVER_READY_TIMEOUT_SECONDS = 6


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_reschedule():
    @task.sensor(mode="reschedule", poke_interval=POKE_INTERVAL_SECONDS, timeout=600)
    def ready_after_three_pokes(**context) -> PokeReturnValue:
        seen = context["task_reschedule_count"]
        print(f"poke with {seen} reschedules before it, try {context['ti'].try_number}")
        return PokeReturnValue(is_done=seen >= READY_AFTER_RESCHEDULES, xcom_value=seen)

    @task
    def after_sensor(reschedules: int) -> str:
        return f"ready after {reschedules} reschedules"

    @task.sensor(mode="reschedule", poke_interval=POKE_INTERVAL_SECONDS, timeout=NEVER_READY_TIMEOUT_SECONDS,
                 soft_fail=True)
    def never_ready(**context) -> bool:
        print(f"poke with {context['task_reschedule_count']} reschedules before it")
        return False

    @task
    def after_soft_fail() -> str:
        return "never runs: its upstream is skipped"

    after_sensor(ready_after_three_pokes())
    never_ready() >> after_soft_fail()


e2e_owned_reschedule()
