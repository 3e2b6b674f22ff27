"""End-to-end test DAG: a sensor in reschedule mode that is ready on its second poke, 60 s after its first,
beside `other`, which a test clears while the sensor waits. The run is then read back after the clear; the
sensor must still poke at its reschedule date, as Airflow's ReadyToRescheduleDep holds it back."""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import PokeReturnValue, dag, task

POKE_INTERVAL_SECONDS = 60


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_reschedule_clear():
    @task.sensor(mode="reschedule", poke_interval=POKE_INTERVAL_SECONDS, timeout=600)
    def ready_on_second_poke(**context) -> PokeReturnValue:
        seen = context["task_reschedule_count"]
        return PokeReturnValue(is_done=seen >= 1, xcom_value=seen)

    @task
    def other() -> str:
        return "done"

    ready_on_second_poke()
    other()


e2e_owned_reschedule_clear()
