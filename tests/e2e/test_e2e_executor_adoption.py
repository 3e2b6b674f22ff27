"""TemporalExecutor's hand-over and adoption, in this process, against the stack's real Temporal dev
server and worker JARs (the DagRun workflows answering are the real Java ones). The attempts go to
queue `nowhere`, which no worker serves, so each stays in its workflow, running, as long as a test needs.
The task instances are Airflow's own TaskInstance objects, as the scheduler passes them for adoption.
"""
from __future__ import annotations

import socket
import threading
import uuid

import pytest

from e2e_checks import in_process_executor
from airflow_temporal_testing.stack import free_port, wait_until

pytestmark = pytest.mark.usefixtures("require_temporal")


class _Relay:
    """A loopback port in front of Temporal that refuses connections until opened: Temporal unreachable,
    then back, for a client that only knows this port."""

    def __init__(self, target: str):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.port = free_port()
        self.server: socket.socket | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def open(self) -> None:
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                s.close()


def _workload(dag_id: str, run_id: str, task_id: str, external_executor_id: str):
    """The ExecuteTask workload of a TI the scheduler queued under `external_executor_id`."""
    from airflow.executors.workloads import BundleInfo, ExecuteTask, TaskInstanceDTO

    return ExecuteTask(
        ti=TaskInstanceDTO(id=uuid.uuid4(), dag_version_id=uuid.uuid4(), task_id=task_id, dag_id=dag_id,
                           run_id=run_id, try_number=1, map_index=-1, pool_slots=1, queue="nowhere",
                           priority_weight=1, external_executor_id=external_executor_id),
        dag_rel_path="none.py", token="not-a-token", bundle_info=BundleInfo(name="dags-folder", version=None),
        log_path=f"in_process/{uuid.uuid4()}.log",
    )


def _task_instance(dag_id: str, run_id: str, task_id: str, external_executor_id: str):
    """A queued TaskInstance, as the scheduler hands orphans to try_adopt_task_instances."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG

    with DAG(dag_id, schedule=None):
        task = EmptyOperator(task_id=task_id)
    ti = TaskInstance(task=task, dag_version_id=uuid.uuid4(), run_id=run_id, state="queued")
    ti.try_number = 1
    ti.external_executor_id = external_executor_id
    return ti


def _new_run() -> tuple[str, str]:
    return "adoption_" + uuid.uuid4().hex[:8], f"manual__{uuid.uuid4()}"


def test_an_attempt_handed_over_twice_under_its_id_runs_once_and_a_restarted_scheduler_adopts_it_by_that_id(
        stack, monkeypatch):
    dag_id, run_id = _new_run()
    queued_as = str(uuid.uuid4())
    workload = _workload(dag_id, run_id, "held", queued_as)
    first, again, restarted = (in_process_executor(monkeypatch, stack.temporal_address) for _ in range(3))
    try:
        first.queued_tasks[workload.ti.key] = workload
        first.heartbeat()
        assert first.get_event_buffer() == {workload.ti.key: ("queued", queued_as)}
        # The same queueing handed over again (a retry after a timeout that hid the first success).
        again.queued_tasks[workload.ti.key] = workload
        again.heartbeat()
        wid = next(iter(first.active_runs))
        progress = wait_until(lambda: (p := first.workflows.progress({wid: 0})[wid]) and p.running and p, 60,
                              "the attempt running in its workflow")
        assert (len(progress.running), progress.external_executor_ids) == (1, [queued_as])

        orphans = [_task_instance(dag_id, run_id, "held", queued_as),
                   _task_instance(dag_id, run_id, "never_handed_over", str(uuid.uuid4())),
                   _task_instance(dag_id, f"manual__{uuid.uuid4()}", "held", str(uuid.uuid4()))]
        reset = restarted.try_adopt_task_instances(orphans)

        assert [ti.task_id for ti in reset] == ["never_handed_over", "held"]
        assert reset[1].run_id != run_id, "a run without a workflow holds nothing"
        assert restarted.running == {orphans[0].key}
        assert not any(run.unconfirmed for run in restarted.active_runs.values())
        restarted.revoke_task(ti=orphans[0])
    finally:
        for executor in (first, again, restarted):
            executor.terminate()


def test_a_ti_is_kept_while_temporal_cannot_answer_and_settled_once_it_answers(stack, monkeypatch):
    dag_id, run_id = _new_run()
    running_as, lost_as = str(uuid.uuid4()), str(uuid.uuid4())
    workload = _workload(dag_id, run_id, "held", running_as)
    submitter = in_process_executor(monkeypatch, stack.temporal_address)
    relay = _Relay(stack.temporal_address)
    restarted = in_process_executor(monkeypatch, relay.address)
    try:
        submitter.queued_tasks[workload.ti.key] = workload
        submitter.heartbeat()
        assert workload.ti.key in submitter.running
        running = _task_instance(dag_id, run_id, "held", running_as)
        lost = _task_instance(dag_id, run_id, "lost", lost_as)

        assert restarted.try_adopt_task_instances([running, lost]) == []
        restarted.sync()
        assert restarted.running == {running.key, lost.key}
        assert restarted.get_event_buffer() == {}, "no answer is not an answer"

        relay.open()
        restarted.sync()
        assert restarted.running == {running.key}
        events = restarted.get_event_buffer()
        assert list(events) == [lost.key]
        state, reason = events[lost.key]
        assert state == "failed" and f"does not hold the attempt queued as {lost_as}" in reason
        assert not any(run.unconfirmed for run in restarted.active_runs.values())
        submitter.revoke_task(ti=running)
    finally:
        restarted.terminate()
        submitter.terminate()
        relay.close()
