package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Waiting tries of Temporal-owned runs against PostgreSQL migrated by the real {@code airflow db migrate}:
 * what the Execution API writes when a runner defers or reschedules is written with plain SQL; the resumption
 * is Airflow's own {@code handle_event_submit}, run by the venv's Airflow.
 */
class WaitingTaskInstancesTest {
  @RegisterExtension
  static final ChainRuns chain = new ChainRuns();
  private static final String DAG_ID = ChainRuns.DAG_ID;
  private static final TaskInstanceRef EXTRACT = TaskInstanceRef.of("extract");
  private static final TaskInstanceRef TRANSFORM = TaskInstanceRef.of("transform");

  /** Airflow's triggerer, on the trigger's event: {@code Trigger.submit_event} → {@code handle_event_submit}. */
  private static final String AIRFLOW_TRIGGER_EVENT = """
      import sys
      from sqlalchemy import select
      from airflow.models.taskinstance import TaskInstance
      from airflow.models.trigger import handle_event_submit
      from airflow.triggers.base import TriggerEvent
      from airflow.utils.session import create_session
      dag_id, run_id, task_id = sys.argv[1:]
      with create_session() as session:
          ti = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id,
              TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)).one()
          handle_event_submit(TriggerEvent({"fired": True}), task_instance=ti, session=session)
          print("resumed", ti.state, ti.try_number)
      """;

  private static MigratedAirflowDb airflowDb;
  private static TaskInstanceSettlement settlement;
  private static TaskInstanceQueueing queueing;
  private static WaitingTaskInstances waiting;

  @BeforeAll
  static void openDatabase() {
    airflowDb = chain.airflowDb();
    settlement = new TaskInstanceSettlement(chain.db());
    queueing = new TaskInstanceQueueing(chain.db());
    waiting = new WaitingTaskInstances(chain.db());
  }

  @Test
  void aDeferredTryThatAirflowResumedIsFoundScheduledAtTheSameTryInARunningExternalRunOnly() throws Exception {
    DagRunKey running = newRun();
    DagRunKey finished = newRun();
    for (DagRunKey run : List.of(running, finished)) {
      defer(run, "extract");
      assertThat(airflowDb.airflowPython(AIRFLOW_TRIGGER_EVENT, DAG_ID, run.runId(), "extract"))
          .contains("resumed scheduled 1");
    }
    airflowDb.update("UPDATE dag_run SET state = 'failed' WHERE dag_id = ? AND run_id = ?", DAG_ID, finished.runId());
    defer(running, "transform");  // still deferred: not resumed

    List<ResumedTaskInstance> resumed = waiting.resumedInRunningExternalRuns().stream()
        .filter(r -> List.of(running, finished).contains(r.run())).toList();

    assertThat(resumed).hasSize(1);
    assertThat(resumed.get(0).run()).isEqualTo(running);
    assertThat(resumed.get(0).ref()).isEqualTo(EXTRACT);
    assertThat(resumed.get(0).tryNumber()).isEqualTo(1);
    assertThat(resumed.get(0).scheduledAt()).isNotNull();
  }

  @Test
  void theRescheduleDateIsTheOneTheLatestRescheduleAskedFor() throws SQLException {
    DagRunKey run = newRun();
    UUID extract = stored(run, EXTRACT).id();
    assertThat(waiting.rescheduleDate(extract)).isEmpty();

    reschedule(extract, "2026-01-01T10:00:05Z");
    reschedule(extract, "2026-01-01T10:00:10Z");

    assertThat(waiting.rescheduleDate(extract)).contains(Instant.parse("2026-01-01T10:00:10Z"));
  }

  @Test
  void aReadBackCarriesEachUpForRescheduleTrysLatestRescheduleDateAndNoneForOtherStates() throws SQLException {
    DagRunKey run = newRun();
    UUID extract = stored(run, EXTRACT).id();
    reschedule(extract, "2026-01-01T10:00:05Z");
    reschedule(extract, "2026-01-01T10:00:10Z");
    airflowDb.update("UPDATE task_instance SET state = 'up_for_reschedule', try_number = 1 WHERE dag_id = ? "
        + "AND run_id = ? AND task_id = 'extract'", DAG_ID, run.runId());
    defer(run, "transform");

    Instant latest = Instant.parse("2026-01-01T10:00:10Z");
    assertThat(stored(run, EXTRACT).rescheduleDate()).isEqualTo(latest);
    assertThat(stored(run, TRANSFORM).rescheduleDate()).isNull();
    assertThat(waiting.read(run, List.of(EXTRACT, TRANSFORM))).extracting(StoredTaskInstance::rescheduleDate)
        .containsExactly(latest, null);
  }

  @Test
  void readingTaskInstancesGivesTheirStateNowInKeyOrderAndLeavesOutUnknownOnes() throws SQLException {
    DagRunKey run = newRun();
    defer(run, "transform");
    airflowDb.update("UPDATE task_instance SET state = 'success', try_number = 1 WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'extract'", DAG_ID, run.runId());

    List<StoredTaskInstance> read = waiting.read(run, List.of(TRANSFORM, EXTRACT, TaskInstanceRef.of("nope"),
        new TaskInstanceRef("extract", 3)));

    assertThat(read).extracting(StoredTaskInstance::ref).containsExactly(EXTRACT, TRANSFORM);
    assertThat(read).extracting(StoredTaskInstance::state).containsExactly(TaskState.SUCCESS, TaskState.DEFERRED);
    assertThat(read).extracting(StoredTaskInstance::tryNumber).containsExactly(1, 1);
    assertThat(waiting.read(run, List.of())).isEmpty();
  }

  @Test
  void aSensorsNextPokeIsQueuedAtTheSameTryOnceAndAPoolWithoutRoomLeavesItWaiting() throws Exception {
    DagRunKey run = newRun();
    UUID extract = stored(run, EXTRACT).id();
    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.Queued(EXTRACT, extract, 1));
    airflowDb.update("UPDATE task_instance SET state = 'up_for_reschedule' WHERE id = cast(? as uuid)",
        extract.toString());
    airflowDb.update("UPDATE slot_pool SET slots = 0 WHERE pool = 'default_pool'");
    try {
      assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))).get(0))
          .isInstanceOf(QueueResult.PoolFull.class);
    } finally {
      airflowDb.update("UPDATE slot_pool SET slots = 128 WHERE pool = 'default_pool'");
    }

    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.Queued(EXTRACT, extract, 1));
    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1)))).as("repeated")
        .containsExactly(new QueueResult.Queued(EXTRACT, extract, 1));
    assertThat(stored(run, EXTRACT)).extracting(StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(TaskState.QUEUED, 1);
  }

  @Test
  void aDeferredTryIsQueuedAtTheSameTryOnlyOnceAirflowResumedIt() throws Exception {
    DagRunKey run = newRun();
    defer(run, "extract");
    airflowDb.update("UPDATE task_instance SET state = 'awaiting_input', try_number = 1 WHERE dag_id = ? "
        + "AND run_id = ? AND task_id = 'transform'", DAG_ID, run.runId());
    UUID extract = stored(run, EXTRACT).id();

    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1), attempt(TRANSFORM, 1))))
        .as("still waiting for the triggerer and a human")
        .containsExactly(new QueueResult.NotQueueable(EXTRACT, TaskState.DEFERRED, 1),
            new QueueResult.NotQueueable(TRANSFORM, TaskState.AWAITING_INPUT, 1));

    assertThat(airflowDb.airflowPython(AIRFLOW_TRIGGER_EVENT, DAG_ID, run.runId(), "extract"))
        .contains("resumed scheduled 1");
    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.Queued(EXTRACT, extract, 1));
    assertThat(stored(run, EXTRACT)).extracting(StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(TaskState.QUEUED, 1);
    assertThat(airflowDb.count("SELECT count(*) FROM task_instance WHERE id = cast(? as uuid) "
        + "AND next_method = 'resume' AND next_kwargs::text LIKE '%fired%'", extract.toString()))
        .as("the event stays for the runner to resume with").isEqualTo(1);
  }

  @Test
  void aTryAwaitingInputTakesNoPoolSlotEvenInAPoolThatIncludesDeferred() throws Exception {
    String pool = chain.newPool(1, true);
    DagRunKey first = newRun();
    DagRunKey second = newRun();
    for (DagRunKey run : List.of(first, second)) {
      airflowDb.update("UPDATE task_instance SET pool = ? WHERE dag_id = ? AND run_id = ?", pool, DAG_ID, run.runId());
    }
    airflowDb.update("UPDATE task_instance SET state = 'awaiting_input', try_number = 1 WHERE dag_id = ? "
        + "AND run_id = ? AND task_id = 'extract'", DAG_ID, first.runId());

    assertThat(queueing.queue(second, 0, List.of(attempt(EXTRACT, 1))).get(0))
        .as("Pool.slots_stats never counts awaiting_input").isInstanceOf(QueueResult.Queued.class);
    airflowDb.update("UPDATE task_instance SET state = 'deferred' WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'extract'", DAG_ID, second.runId());
    assertThat(queueing.queue(first, 0, List.of(attempt(TRANSFORM, 1))).get(0))
        .as("a deferred try counts in a pool with include_deferred").isInstanceOf(QueueResult.PoolFull.class);
  }

  private static StoredTaskInstance stored(DagRunKey run, TaskInstanceRef ref) {
    return settlement.all(run).stream().filter(ti -> ti.ref().equals(ref)).findFirst().orElseThrow();
  }

  private static AttemptToQueue attempt(TaskInstanceRef ref, int tryNumber) {
    return new AttemptToQueue(ref.taskId(), ref.mapIndex(), tryNumber);
  }

  /** What the Execution API writes when the runner of try 1 defers (the trigger row left out: not read here). */
  private static void defer(DagRunKey run, String taskId) throws SQLException {
    airflowDb.update("UPDATE task_instance SET state = 'deferred', try_number = 1, next_method = 'resume', "
        + "next_kwargs = '{}', start_date = now() WHERE dag_id = ? AND run_id = ? AND task_id = ?",
        DAG_ID, run.runId(), taskId);
  }

  /** The task_reschedule row the Execution API inserts when a sensor reschedules. */
  private static void reschedule(UUID taskInstanceId, String rescheduleDate) throws SQLException {
    airflowDb.update("INSERT INTO task_reschedule (ti_id, start_date, end_date, duration, reschedule_date) "
        + "VALUES (cast(? as uuid), now(), now(), 0, cast(? as timestamptz))", taskInstanceId.toString(), rescheduleDate);
  }

  private static DagRunKey newRun() {
    return chain.newRun(t -> ChainRuns.task(t, "default_pool", 1, 1));
  }
}
