"""End-to-end test DAG for Human-in-the-loop tasks on Temporal-owned runs: `approve` (ApprovalOperator)
parks its task `awaiting_input` until someone answers it in the UI or through the REST API
(`PATCH .../taskInstances/approve/-1/hitlDetails`); `after_approval` runs once it is approved, with the
response's chosen options."""
from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import dag, task


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_owned_hitl():
    approve = ApprovalOperator(task_id="approve", subject="Ship it?", body="An e2e test answers this.")

    @task
    def after_approval(response: dict) -> str:
        return f"approved with {response['chosen_options']}"

    after_approval(approve.output)


e2e_owned_hitl()
