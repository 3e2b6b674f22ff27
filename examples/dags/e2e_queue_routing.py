"""End-to-end test DAG: one task on queue `special`, one on the default queue."""
from __future__ import annotations

import os
import socket
from datetime import datetime

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_queue_routing():
    @task(queue="special")
    def on_special() -> str:
        print(f"running on queue special, host={socket.gethostname()} pid={os.getpid()}")
        return "special"

    @task
    def on_default() -> str:
        print(f"running on default queue, host={socket.gethostname()} pid={os.getpid()}")
        return "default"

    on_special() >> on_default()


e2e_queue_routing()
