"""Differential test DAG: `flaky` fails on try 1 and succeeds on try 2 (retry_delay 3 s), `after`
consumes its XCom; `hopeless` fails both of its tries, so the run fails."""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_retries():
    @task(retries=1, retry_delay=timedelta(seconds=3))
    def flaky(**context) -> str:
        try_number = context["ti"].try_number
        print(f"flaky try {try_number}")
        if try_number < 2:
            raise RuntimeError(f"failing on purpose on try {try_number}")
        return f"succeeded on try {try_number}"

    @task
    def after(msg: str) -> str:
        return f"after: {msg}"

    @task(retries=1, retry_delay=timedelta(seconds=2))
    def hopeless(**context) -> None:
        raise RuntimeError(f"hopeless try {context['ti'].try_number}")

    after(flaky())
    hopeless()


e2e_diff_retries()
