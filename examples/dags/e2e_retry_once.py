"""End-to-end test DAG: `flaky` fails on try 1 and succeeds on try 2."""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def e2e_retry_once():
    @task(retries=1, retry_delay=timedelta(seconds=1))
    def flaky(**context) -> str:
        try_number = context["ti"].try_number
        print(f"flaky running try_number={try_number}")
        if try_number < 2:
            raise RuntimeError(f"failing on purpose on try {try_number}")
        return f"succeeded on try {try_number}"

    @task
    def after(msg: str) -> str:
        print(f"after flaky: {msg}")
        return msg

    after(flaky())


e2e_retry_once()
