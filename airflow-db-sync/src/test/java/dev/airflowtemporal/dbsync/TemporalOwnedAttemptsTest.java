package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Attempts of Temporal-owned runs (queueing within pools, reading back what the runner wrote, failing
 * what it left unfinished, settling and expanding TaskInstances) against PostgreSQL migrated by the real
 * {@code airflow db migrate} (scripts/stack.py db-up). What Airflow's runner would write through the
 * Execution API is written here with plain SQL. Every run and pool a test creates is its own and is
 * deleted afterwards; Airflow's tables themselves are never altered.
 */
class TemporalOwnedAttemptsTest {
  @RegisterExtension
  static final ChainRuns chain = new ChainRuns();
  private static final String DAG_ID = ChainRuns.DAG_ID;
  private static final TaskInstanceRef EXTRACT = new TaskInstanceRef("extract", -1);
  private static final TaskInstanceRef TRANSFORM = new TaskInstanceRef("transform", -1);
  private static final TaskInstanceRef VALIDATE = new TaskInstanceRef("validate", -1);
  private static final TaskInstanceRef LOAD = new TaskInstanceRef("load", -1);

  private static MigratedAirflowDb airflowDb;
  private static TaskInstanceCreation creation;
  private static TaskInstanceQueueing queueing;
  private static TaskInstanceSettlement settlement;
  private static TaskMaps taskMaps;

  @BeforeAll
  static void openDatabase() {
    airflowDb = chain.airflowDb();
    creation = new TaskInstanceCreation(chain.db());
    queueing = new TaskInstanceQueueing(chain.db());
    settlement = new TaskInstanceSettlement(chain.db());
    taskMaps = new TaskMaps(chain.db());
  }

  @Test
  void aFullPoolQueuesNoAttemptOfAnotherRunUntilASlotFrees() throws SQLException {
    String pool = newPool(2, false);
    DagRunKey runA = newRunWithChain(pool, 1);
    DagRunKey runB = newRunWithChain(pool, 1);

    List<QueueResult> a = queueing.queue(runA, 0, List.of(
        attempt(EXTRACT, 1), attempt(TRANSFORM, 1), attempt(VALIDATE, 1)));
    List<QueueResult> b = queueing.queue(runB, 0, List.of(attempt(EXTRACT, 1)));

    assertThat(a.get(0)).isEqualTo(new QueueResult.Queued(EXTRACT, idOf(runA, EXTRACT), 1));
    assertThat(a.get(1)).isInstanceOf(QueueResult.Queued.class);
    assertThat(a.get(2)).as("the third request, lowest in priority").isEqualTo(
        new QueueResult.PoolFull(VALIDATE, pool, 1, 0, 2));
    assertThat(b).containsExactly(new QueueResult.PoolFull(EXTRACT, pool, 1, 0, 2));
    assertThat(status(runB, EXTRACT).state()).isEqualTo(TaskState.NONE);
    assertThat(status(runB, EXTRACT).tryNumber()).isZero();

    update("UPDATE task_instance SET state = 'success' WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'",
        DAG_ID, runA.runId());
    assertThat(queueing.queue(runB, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.Queued(EXTRACT, idOf(runB, EXTRACT), 1));
    assertThat(status(runB, EXTRACT)).extracting(StoredTaskInstance::id, StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(idOf(runB, EXTRACT), TaskState.QUEUED, 1);
    try (Connection c = connect();
         PreparedStatement q = c.prepareStatement("SELECT queued_dttm IS NOT NULL, scheduled_dttm IS NOT NULL, "
             + "queued_by_job_id IS NULL, hostname FROM task_instance WHERE dag_id = ? AND run_id = ? "
             + "AND task_id = 'extract'")) {
      q.setString(1, DAG_ID);
      q.setString(2, runB.runId());
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        assertThat(rs.getBoolean(1)).isTrue();
        assertThat(rs.getBoolean(2)).isTrue();
        assertThat(rs.getBoolean(3)).isTrue();
        assertThat(rs.getString(4)).isEmpty();
      }
    }
  }

  @Test
  void deferredAttemptsTakeSlotsOnlyInAPoolThatIncludesDeferred() throws SQLException {
    String pool = newPool(1, true);
    DagRunKey runA = newRunWithChain(pool, 1);
    DagRunKey runB = newRunWithChain(pool, 1);
    queueing.queue(runA, 0, List.of(attempt(EXTRACT, 1)));
    update("UPDATE task_instance SET state = 'deferred' WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'",
        DAG_ID, runA.runId());

    assertThat(queueing.queue(runB, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.PoolFull(EXTRACT, pool, 1, 0, 1));

    update("UPDATE slot_pool SET include_deferred = false WHERE pool = ?", pool);
    assertThat(queueing.queue(runB, 0, List.of(attempt(EXTRACT, 1))))
        .containsExactly(new QueueResult.Queued(EXTRACT, idOf(runB, EXTRACT), 1));
  }

  @Test
  void anUnlimitedPoolQueuesEveryAttempt() throws SQLException {
    String pool = newPool(Pools.UNLIMITED, false);
    DagRunKey run = newRunWithChain(pool, 1000);

    List<QueueResult> results = queueing.queue(run, 0,
        ChainRuns.CHAIN.stream().map(task -> attempt(new TaskInstanceRef(task, -1), 1)).toList());

    assertThat(results).hasSize(4).allSatisfy(r -> assertThat(r).isInstanceOf(QueueResult.Queued.class));
  }

  @Test
  void aRepeatedQueueRequestReturnsTheSameAttemptAndTakesNoSecondSlot() throws SQLException {
    String pool = newPool(1, false);
    DagRunKey run = newRunWithChain(pool, 1);
    QueueResult first = queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))).get(0);
    Instant queuedAt = queuedAt(run, EXTRACT);

    List<QueueResult> again = queueing.queue(run, 0, List.of(
        attempt(EXTRACT, 1), attempt(TRANSFORM, 1), attempt(VALIDATE, 3)));

    assertThat(again).containsExactly(first, new QueueResult.PoolFull(TRANSFORM, pool, 1, 0, 1),
        new QueueResult.NotQueueable(VALIDATE, TaskState.NONE, 0));
    assertThat(status(run, EXTRACT)).extracting(StoredTaskInstance::id, StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(idOf(run, EXTRACT), TaskState.QUEUED, 1);
    assertThat(queuedAt(run, EXTRACT)).isEqualTo(queuedAt);

    update("UPDATE task_instance SET state = 'running' WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'",
        DAG_ID, run.runId());
    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))))
        .as("repeated once the runner started").containsExactly(first);
  }

  @Test
  void readBackReportsWhatTheRunnerWroteAndTheTasksItSkipped() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    update("UPDATE task_instance SET state = 'skipped', updated_at = now() - interval '1 hour' "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = 'load'", DAG_ID, run.runId());
    Instant since = DagRuns.now();
    queueing.queue(run, 0, List.of(attempt(EXTRACT, 1)));
    UUID nextTryId = TaskInstanceCreation.UUID_V7.get();
    // The Execution API: the runner's up_for_retry with a RetryPolicy's delay, and a branch's skip.
    update("UPDATE task_instance SET id = ?::uuid, state = 'up_for_retry', start_date = '2026-01-01T10:00:00Z', "
        + "end_date = '2026-01-01T10:00:02Z', retry_delay_override = 30, updated_at = now() "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", nextTryId.toString(), DAG_ID, run.runId());
    update("UPDATE task_instance SET state = 'skipped', updated_at = now() "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = 'validate'", DAG_ID, run.runId());

    AttemptReadBack readBack = settlement.readBack(run, "extract", -1, since);

    assertThat(readBack).isEqualTo(new AttemptReadBack(nextTryId, TaskState.UP_FOR_RETRY, 1,
        Instant.parse("2026-01-01T10:00:00Z"), Instant.parse("2026-01-01T10:00:02Z"), 30.0, List.of(VALIDATE)));
    assertThat(settlement.readBack(run, "transform", -1, since))
        .isEqualTo(new AttemptReadBack(idOf(run, TRANSFORM), TaskState.NONE, 0, null, null, null,
            List.of(VALIDATE)));
    assertThatThrownBy(() -> settlement.readBack(run, "extract", 0, since))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no TaskInstance extract[0]");
  }

  @Test
  void failingAnUnfinishedRetryableAttemptArchivesItOnceAndGivesTheNextTryANewId() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    queueing.queue(run, 0, List.of(attempt(EXTRACT, 1)));
    UUID firstTryId = idOf(run, EXTRACT);
    // The runner's /run, then it died.
    update("UPDATE task_instance SET state = 'running', start_date = '2026-01-01T10:00:00Z', hostname = 'worker-1', "
        + "pid = 4242 WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", DAG_ID, run.runId());
    Instant end = Instant.parse("2026-01-01T10:00:05.5Z");

    assertThat(settlement.failUnfinished(run, "extract", -1, 1, true, end)).isTrue();
    assertThat(settlement.failUnfinished(run, "extract", -1, 1, true, end)).as("repeated").isFalse();

    StoredTaskInstance now = status(run, EXTRACT);
    assertThat(now.id()).isNotEqualTo(firstTryId);
    assertThat(now.id().version()).isEqualTo(7);
    assertThat(now.state()).isEqualTo(TaskState.UP_FOR_RETRY);
    assertThat(now.tryNumber()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND end_date = '2026-01-01T10:00:05.5Z' AND duration = 5.5", run.runId())).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ?", run.runId()))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ? "
        + "AND task_instance_id = '" + firstTryId + "' AND task_id = 'extract' AND map_index = -1 AND try_number = 1 "
        + "AND state = 'failed' AND hostname = 'worker-1' AND pid = 4242 AND pool = 'default_pool' "
        + "AND start_date = '2026-01-01T10:00:00Z' AND end_date = '2026-01-01T10:00:05.5Z' AND duration = 5.5 "
        + "AND queued_dttm IS NOT NULL AND dag_version_id IS NOT NULL", run.runId())).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM log WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND event = 'up_for_retry' AND try_number = 1 AND extra = '{\"host_name\": \"worker-1\"}'", run.runId()))
        .isEqualTo(1);

    assertThat(queueing.queue(run, 0, List.of(attempt(EXTRACT, 2))))
        .containsExactly(new QueueResult.Queued(EXTRACT, now.id(), 2));
  }

  @Test
  void failingAnUnfinishedAttemptWithoutRetriesFailsItAndLeavesAReportedStateAlone() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    queueing.queue(run, 0, List.of(attempt(EXTRACT, 1), attempt(TRANSFORM, 1)));
    UUID extractId = idOf(run, EXTRACT);
    update("UPDATE task_instance SET state = 'success' WHERE dag_id = ? AND run_id = ? AND task_id = 'transform'",
        DAG_ID, run.runId());
    Instant end = Instant.parse("2026-01-01T10:00:05Z");

    assertThat(settlement.failUnfinished(run, "extract", -1, 1, false, end)).as("died while queued").isTrue();
    assertThat(settlement.failUnfinished(run, "transform", -1, 1, true, end)).as("reported success").isFalse();
    assertThat(settlement.failUnfinished(run, "extract", -1, 2, true, end)).as("another try").isFalse();

    assertThat(status(run, EXTRACT)).extracting(StoredTaskInstance::id, StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(extractId, TaskState.FAILED, 1);
    assertThat(status(run, TRANSFORM).state()).isEqualTo(TaskState.SUCCESS);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND end_date = '2026-01-01T10:00:05Z' AND start_date IS NULL AND duration IS NULL", run.runId()))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ?", run.runId()))
        .isZero();
  }

  @Test
  void markAllSettlesOnlyTaskInstancesWithoutAState() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    queueing.queue(run, 0, List.of(attempt(EXTRACT, 1)));
    Map<TaskInstanceRef, TaskState> settled = Map.of(EXTRACT, TaskState.REMOVED, VALIDATE, TaskState.SKIPPED,
        LOAD, TaskState.UPSTREAM_FAILED);

    assertThat(settlement.markAll(run, 0, settled)).isEqualTo(2);
    assertThat(settlement.markAll(run, 0, settled)).as("repeated").isZero();

    assertThat(status(run, EXTRACT).state()).isEqualTo(TaskState.QUEUED);
    assertThat(status(run, VALIDATE).state()).isEqualTo(TaskState.SKIPPED);
    assertThat(status(run, LOAD).state()).isEqualTo(TaskState.UPSTREAM_FAILED);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? "
        + "AND task_id IN ('validate', 'load') AND start_date = end_date AND duration = 0", run.runId())).isEqualTo(2);
    assertThatThrownBy(() -> settlement.markAll(run, 0, Map.of(TRANSFORM, TaskState.FAILED)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not 'failed'");
  }

  @Test
  void markingAnEmptyOperatorSuccessCountsItAsItsFirstTryAsAirflowDoes() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    assertThat(settlement.markAll(run, 0, Map.of(TRANSFORM, TaskState.SUCCESS))).isEqualTo(1);
    assertThat(settlement.markAll(run, 0, Map.of(TRANSFORM, TaskState.SUCCESS))).as("repeated").isZero();
    assertThat(status(run, TRANSFORM).state()).isEqualTo(TaskState.SUCCESS);
    assertThat(status(run, TRANSFORM).tryNumber()).isEqualTo(1);
  }

  @Test
  void expandingAMappedTaskTurnsTheUnmappedTaskInstanceIntoIndexZeroAndCreatesTheRestOnce() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);
    UUID unmappedId = idOf(run, TRANSFORM);
    assertThat(taskMaps.length(run, "extract")).isEmpty();
    // The runner of extract records the length of its return value when it succeeds.
    update("INSERT INTO task_map (dag_id, task_id, run_id, map_index, length, keys) "
        + "VALUES (?, 'extract', ?, -1, 3, NULL)", DAG_ID, run.runId());
    OptionalInt length = taskMaps.length(run, "extract");
    assertThat(length).hasValue(3);

    assertThat(creation.expandMapped(run, 0, ChainRuns.task("transform", "default_pool", 1, 1), length.getAsInt()))
        .as("index 0 converted, 1 and 2 created").isEqualTo(3);
    assertThat(creation.expandMapped(run, 0, ChainRuns.task("transform", "default_pool", 1, 1), length.getAsInt()))
        .as("repeated").isZero();

    Map<TaskInstanceRef, StoredTaskInstance> states = byRef(run);
    assertThat(states).doesNotContainKey(TRANSFORM);
    assertThat(states.get(new TaskInstanceRef("transform", 0))).extracting(StoredTaskInstance::id, StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(unmappedId, TaskState.NONE, 0);
    assertThat(states.get(new TaskInstanceRef("transform", 1)).state()).isEqualTo(TaskState.NONE);
    assertThat(states.get(new TaskInstanceRef("transform", 2)).tryNumber()).isZero();
    assertThat(states).doesNotContainKey(new TaskInstanceRef("transform", 3));
    assertThat(count("SELECT count(DISTINCT dag_version_id) FROM task_instance WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'transform' AND dag_version_id IS NOT NULL", run.runId())).isEqualTo(1);
  }

  @Test
  void expandingAMappedTaskOverNothingSkipsTheUnmappedTaskInstanceOnce() throws SQLException {
    DagRunKey run = newRunWithChain("default_pool", 1);

    assertThat(creation.expandMapped(run, 0, ChainRuns.task("transform", "default_pool", 1, 1), 0)).isEqualTo(1);
    assertThat(creation.expandMapped(run, 0, ChainRuns.task("transform", "default_pool", 1, 1), 0)).as("repeated").isZero();

    assertThat(status(run, TRANSFORM).state()).isEqualTo(TaskState.SKIPPED);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'transform'",
        run.runId())).isEqualTo(1);
  }

  @Test
  void queueingATaskOfAMissingPoolNamesThePoolAndHowToCreateIt() throws SQLException {
    String missing = "dbsync_missing_" + UUID.randomUUID().toString().substring(0, 8);
    DagRunKey run = newRunWithChain(missing, 1);

    assertThatThrownBy(() -> queueing.queue(run, 0, List.of(attempt(EXTRACT, 1))))
        .isInstanceOf(UnknownPoolException.class)
        .hasMessageContaining("pool '" + missing + "' does not exist")
        .hasMessageContaining("Admin > Pools").hasMessageContaining("airflow pools set");
    assertThat(status(run, EXTRACT).state()).isEqualTo(TaskState.NONE);
  }

  private static DagRunKey newRunWithChain(String pool, int poolSlots) {
    return chain.newRun(t -> ChainRuns.task(t, pool, poolSlots, 1));
  }

  private static String newPool(int slots, boolean includeDeferred) throws SQLException {
    return chain.newPool(slots, includeDeferred);
  }

  private static StoredTaskInstance status(DagRunKey run, TaskInstanceRef key) {
    return byRef(run).get(key);
  }

  private static Map<TaskInstanceRef, StoredTaskInstance> byRef(DagRunKey run) {
    return settlement.all(run).stream().collect(Collectors.toMap(StoredTaskInstance::ref, ti -> ti));
  }

  private static AttemptToQueue attempt(TaskInstanceRef ref, int tryNumber) {
    return new AttemptToQueue(ref.taskId(), ref.mapIndex(), tryNumber);
  }

  private static UUID idOf(DagRunKey run, TaskInstanceRef key) {
    return status(run, key).id();
  }

  private static Instant queuedAt(DagRunKey run, TaskInstanceRef key) throws SQLException {
    try (Connection c = connect();
         PreparedStatement q = c.prepareStatement("SELECT queued_dttm FROM task_instance "
             + "WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index = ?")) {
      q.setString(1, run.dagId());
      q.setString(2, run.runId());
      q.setString(3, key.taskId());
      q.setInt(4, key.mapIndex());
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        Timestamp queuedAt = rs.getTimestamp(1);
        return queuedAt.toInstant();
      }
    }
  }

  private static void update(String sql, String... parameters) throws SQLException {
    airflowDb.update(sql, parameters);
  }

  private static int count(String sql, String runId) {
    return airflowDb.count(sql, DAG_ID, runId);
  }

  private static Connection connect() throws SQLException {
    return airflowDb.connect();
  }
}
