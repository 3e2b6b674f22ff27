"""Differential test DAG for mapping beyond one level.

* `add_ten` is mapped over the output of the mapped task `double` (one instance per XCom `double`'s
  instances returned); `total` sums it. `double` names its map indexes (map_index_template).
* `pipeline` is a mapped TaskGroup over `make`'s list, with two members: `square` fails for 3, and
  `label` in the same instance of the group depends on that instance of `square` alone, so the other
  instances go on; `collect` (all_done) gathers what the labels returned.
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, get_current_context, task, task_group


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_mapped_nested():
    @task
    def make() -> list[int]:
        return [1, 2, 3]

    @task(map_index_template="{{ doubled_from }}")
    def double(x: int) -> int:
        get_current_context()["doubled_from"] = f"from {x}"
        return x * 2

    @task
    def add_ten(x: int) -> int:
        return x + 10

    @task
    def total(values: list[int]) -> int:
        return sum(values)

    @task_group
    def pipeline(n: int):
        @task
        def square(n: int) -> int:
            if n == 3:
                raise ValueError("3 is refused on purpose")
            return n * n

        @task
        def label(squared: int, n: int) -> str:
            return f"{n}^2={squared}"

        return label(square(n), n)

    @task(trigger_rule="all_done")
    def collect(labels) -> list[str]:
        return sorted(labels)

    numbers = make()
    total(add_ten.expand(x=double.expand(x=numbers)))
    collect(pipeline.expand(n=numbers))


e2e_diff_mapped_nested()
