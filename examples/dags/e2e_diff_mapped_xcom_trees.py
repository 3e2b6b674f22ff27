"""Differential test DAG for mapping over nested zip()/concat()/map() of XComs.

Airflow counts a mapped task's instances through the whole tree (`get_task_map_length`): a zip is its
shortest argument (its longest with a fillvalue, even None), a concat the sum, a map() what it maps.
`doubled` is a mapped task, so the trees that read it wait until all its instances have finished and count
the values they returned.

* `zip_of_concat`: letters.zip(numbers.concat(doubled)) -> min(3, 2 + 2) = 3
* `concat_of_filled_zip`: letters.concat(numbers.zip(letters, fillvalue=None)) -> 3 + max(2, 3) = 6
* `map_of_zip`: numbers.zip(letters).map(join) -> min(2, 3) = 2
* `zip_of_mapped_concat`: doubled.zip(letters.concat(numbers).map(text), fillvalue="-") -> max(2, 5) = 5
* `kwargs_of_mapped_zip` (expand_kwargs): letters.zip(doubled.concat(numbers)).map(to_kwargs) -> min(3, 4) = 3
"""
from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag, task


def join(pair) -> str:
    return "".join(str(part) for part in pair)


def text(value) -> str:
    return str(value)


def to_kwargs(pair) -> dict:
    return {"text": join(pair)}


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["e2e"])
def e2e_diff_mapped_xcom_trees():
    @task
    def letters() -> list[str]:
        return ["a", "b", "c"]

    @task
    def numbers() -> list[int]:
        return [1, 2]

    @task
    def double(x: int) -> int:
        return x * 2

    @task
    def show(value) -> str:
        # A zip's item is a tuple; XComs keep the comparison to plain strings.
        return repr(value)

    @task
    def echo(text: str) -> str:
        return text

    @task
    def gather(values) -> list[list[str]]:
        return [list(each) for each in values]

    letters_, numbers_ = letters(), numbers()
    doubled = double.expand(x=numbers_)
    gather.override(task_id="gather_all")([
        show.override(task_id="zip_of_concat").expand(value=letters_.zip(numbers_.concat(doubled))),
        show.override(task_id="concat_of_filled_zip").expand(
            value=letters_.concat(numbers_.zip(letters_, fillvalue=None))),
        show.override(task_id="map_of_zip").expand(value=numbers_.zip(letters_).map(join)),
        show.override(task_id="zip_of_mapped_concat").expand(
            value=doubled.zip(letters_.concat(numbers_).map(text), fillvalue="-")),
        echo.override(task_id="kwargs_of_mapped_zip").expand_kwargs(
            letters_.zip(doubled.concat(numbers_)).map(to_kwargs)),
    ])


e2e_diff_mapped_xcom_trees()
