"""End-to-end test DAG: a sensor in reschedule mode that pokes three times, then succeeds.

Each poke is queued again by Airflow's scheduler at the same try number (the TI goes up_for_reschedule,
not up_for_retry), under a new external_executor_id. Pokes are counted in a marker file per run.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import dag

POKES_NEEDED = 3


def _poke(run_id: str) -> bool:
    markers = Path(os.environ.get("AT_E2E_MARKER_DIR", "/tmp")) / "reschedule_sensor" / run_id.replace(":", "_")
    markers.mkdir(parents=True, exist_ok=True)
    poke = len(list(markers.iterdir())) + 1
    (markers / f"poke-{poke}").touch()
    print(f"poke {poke} of {POKES_NEEDED}")
    return poke >= POKES_NEEDED


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_reschedule_sensor():
    PythonSensor(task_id="wait", python_callable=_poke, op_kwargs={"run_id": "{{ run_id }}"},
                 mode="reschedule", poke_interval=2, timeout=600)


e2e_reschedule_sensor()
