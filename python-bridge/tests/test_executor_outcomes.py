"""How TemporalExecutor turns a workflow's outcomes into Airflow events: each outcome goes to the queueing it
ended (its external executor id), so a try queued again at the same try number (a sensor in reschedule mode,
a task resumed after deferral) is not reported done by the end of its previous queueing."""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.models.taskinstancekey import TaskInstanceKey

from airflow_temporal.executors.temporal_executor import TemporalExecutor, _ActiveRun
from airflow_temporal.wire import AttemptKey, DagRunProgress, TaskOutcome

KEY = TaskInstanceKey(dag_id="sensing", task_id="wait", run_id="manual__1", try_number=1, map_index=-1)


def outcome(seq: int, external_executor_id: str | None, state: str = "success") -> TaskOutcome:
    return TaskOutcome(seq=seq, attempt=AttemptKey(task_id="wait", map_index=-1, try_number=1), state=state,
                       exit_code=0, reason=None, output_tail="", finished_at=datetime.now(timezone.utc),
                       external_executor_id=external_executor_id)


def progress(*outcomes: TaskOutcome) -> DagRunProgress:
    return DagRunProgress(running=[], outcomes=list(outcomes), last_seq=max(o.seq for o in outcomes),
                          external_executor_ids=[])


def test_the_outcome_of_an_earlier_poke_is_not_reported_for_the_poke_queued_since():
    executor = TemporalExecutor()
    run = _ActiveRun(keys={KEY: "poke-2"})
    executor.running.add(KEY)

    executor._report(run, progress(outcome(1, "poke-1")))

    assert executor.get_event_buffer() == {}
    assert KEY in executor.running and run.keys == {KEY: "poke-2"}
    assert run.reported_seq == 1  # acknowledged all the same

    executor._report(run, progress(outcome(2, "poke-2")))

    assert executor.get_event_buffer() == {KEY: ("success", None)}
    assert KEY not in executor.running and run.keys == {}


def test_an_outcome_without_an_id_is_reported_for_the_attempt():
    executor = TemporalExecutor()
    run = _ActiveRun(keys={KEY: None})
    executor.running.add(KEY)

    executor._report(run, progress(outcome(1, None, state="failed")))

    assert executor.get_event_buffer()[KEY][0] == "failed"
    assert run.keys == {}


def test_a_team_executor_reads_the_teams_own_temporal_settings(monkeypatch):
    # Airflow's multi-team contract: the executor is built with team_name and reads config through ExecutorConf.
    monkeypatch.setenv("AIRFLOW__TEMPORAL__TASK_QUEUE", "airflow")
    monkeypatch.setenv("AIRFLOW__ANALYTICS___TEMPORAL__TASK_QUEUE", "airflow-analytics")
    monkeypatch.setenv("AIRFLOW__ANALYTICS___TEMPORAL__NAMESPACE", "analytics")

    team, shared = TemporalExecutor(team_name="analytics"), TemporalExecutor()

    assert TemporalExecutor.supports_multi_team
    assert (team.settings.task_queue, team.settings.namespace) == ("airflow-analytics", "analytics")
    assert (shared.settings.task_queue, shared.settings.namespace) == ("airflow", "default")
