package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The stores of Temporal-owned runs against PostgreSQL migrated by the real {@code airflow db migrate},
 * with examples/dags serialized by the real {@code airflow dags reserialize} (scripts/stack.py db-up).
 * Every run a test creates has its own run id and is deleted afterwards (its TIs go with it by
 * Airflow's ON DELETE CASCADE); Airflow's tables themselves are never altered.
 */
class TemporalOwnedRunsTest {
  private static final String DAG_ID = "example_temporal_chain";
  private static final List<String> CHAIN = List.of("extract", "transform", "validate", "load");
  private static final SecureRandom RANDOM = new SecureRandom();

  @RegisterExtension
  static final OpenAirflowDb airflow = new OpenAirflowDb();
  private static MigratedAirflowDb airflowDb;
  private static DatabaseUrl url;
  private static AirflowDatabase db;
  private static SerializedDags serializedDags;
  private static DagRuns dagRuns;
  private static TaskInstanceCreation creation;
  private static TaskInstanceQueueing queueing;
  private static TaskInstanceSettlement settlement;
  private static Pools pools;

  private final List<String> createdRunIds = new ArrayList<>();

  @BeforeAll
  static void useDatabase() {
    airflowDb = airflow.airflowDb();
    url = airflowDb.url();
    db = airflow.db();
    serializedDags = new SerializedDags(db);
    dagRuns = new DagRuns(db);
    creation = new TaskInstanceCreation(db);
    queueing = new TaskInstanceQueueing(db);
    settlement = new TaskInstanceSettlement(db);
    pools = new Pools(db);
  }

  @AfterEach
  void deleteCreatedRuns() throws Exception {
    try (Connection c = connect();
         PreparedStatement delete = c.prepareStatement("DELETE FROM dag_run WHERE dag_id = ? AND run_id = ?")) {
      for (String runId : createdRunIds) {
        delete.setString(1, DAG_ID);
        delete.setString(2, runId);
        delete.executeUpdate();
      }
    }
  }

  @Test
  void theLatestSerializedDagOfTheDagsFolderIsReadWithItsVersionAndFile() throws Exception {
    SerializedDag dag = serializedDags.latest(DAG_ID);

    JsonNode json = new ObjectMapper().readTree(dag.json());
    assertThat(json.path("__version").asInt()).isEqualTo(3);
    assertThat(json.path("dag").path("dag_id").asText()).isEqualTo(DAG_ID);
    assertThat(dag.versionNumber()).isGreaterThanOrEqualTo(1);
    assertThat(dag.bundleName()).isEqualTo("dags-folder");
    assertThat(dag.relativeFileloc()).isEqualTo(DAG_ID + ".py");
    try (Connection c = connect();
         PreparedStatement q = c.prepareStatement(
             "SELECT id FROM dag_version WHERE dag_id = ? ORDER BY version_number DESC LIMIT 1")) {
      q.setString(1, DAG_ID);
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(dag.dagVersionId()).isEqualTo(rs.getObject(1, UUID.class));
      }
    }
  }

  @Test
  void aDagStoredZlibCompressedReadsAsTheSameJson() throws Exception {
    // A scratch copy of serialized_dag, first on the search path, holds the compressed form
    // ([core] compress_serialized_dags); Airflow's own table is not touched.
    String scratch = "compressed_dags_" + ProcessHandle.current().pid();
    byte[] plain = serializedDags.latest(DAG_ID).json();
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + scratch);
      try {
        s.execute("CREATE TABLE " + scratch + ".serialized_dag AS SELECT * FROM public.serialized_dag");
        try (PreparedStatement compress = c.prepareStatement(
            "UPDATE " + scratch + ".serialized_dag SET data = NULL, data_compressed = ? WHERE dag_id = ?")) {
          compress.setBytes(1, zlib(plain));
          compress.setString(2, DAG_ID);
          assertThat(compress.executeUpdate()).isPositive();
        }
        DatabaseUrl scratchFirst = new DatabaseUrl(url.jdbcUrl() + (url.jdbcUrl().contains("?") ? "&" : "?")
            + "currentSchema=" + scratch + ",public", url.user(), url.password());
        try (AirflowDatabase compressed = AirflowDatabase.open(scratchFirst, 1)) {
          SerializedDag dag = new SerializedDags(compressed).latest(DAG_ID);
          assertThat(new ObjectMapper().readTree(dag.json())).isEqualTo(new ObjectMapper().readTree(plain));
        }
      } finally {
        s.execute("DROP SCHEMA " + scratch + " CASCADE");
      }
    }
  }

  @Test
  void anUnknownDagIsReportedWithWhereToLook() {
    assertThatThrownBy(() -> serializedDags.latest("no_such_dag"))
        .isInstanceOf(UnknownDagException.class)
        .hasMessage("DAG 'no_such_dag' is not in Airflow's metadata DB: is it in the DAGs folder and parsed "
            + "by the dag-processor?");
  }

  @Test
  void anExternalRunAndItsTaskInstancesAreCreatedOnceWhenRequestedTwice() throws Exception {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    NewDagRun request = externalRun(dag, newRunId(), null, "{\"rows\": 4}");

    DagRun first = dagRuns.createExternal(request);
    DagRun again = dagRuns.createExternal(new NewDagRun(request.dagId(), request.runId(), request.runType(),
        request.state(), null, null, null, request.runAfter(), null, "{ \"rows\":4 }", request.triggeredBy(),
        null, request.bundleVersion(), request.dagVersionId()));
    DagRunKey run = new DagRunKey(DAG_ID, request.runId());
    assertThat(creation.createAll(run, dag.dagVersionId(), chainTasks())).isEqualTo(4);
    assertThat(creation.createAll(run, dag.dagVersionId(), chainTasks())).isZero();

    assertThat(again).isEqualTo(first);
    assertThat(first.runType()).isEqualTo("external");
    assertThat(first.state()).isEqualTo("running");
    assertThat(first.startDate()).isNotNull();
    assertThat(first.queuedAt()).isNull();
    assertThat(first.dagVersionId()).isEqualTo(dag.dagVersionId());
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ?", request.runId())).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ?", request.runId()))
        .isEqualTo(4);
    try (Connection c = connect();
         PreparedStatement q = c.prepareStatement("SELECT triggered_by, conf->>'rows', span_status, clear_number, "
             + "log_template_id IS NOT NULL, created_at IS NOT NULL FROM dag_run WHERE dag_id = ? AND run_id = ?")) {
      q.setString(1, DAG_ID);
      q.setString(2, request.runId());
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("CLI");
        assertThat(rs.getString(2)).isEqualTo("4");
        assertThat(rs.getString(3)).isEqualTo("not_started");
        assertThat(rs.getInt(4)).isZero();
        assertThat(rs.getBoolean(5)).isTrue();
        assertThat(rs.getBoolean(6)).isTrue();
      }
    }
    List<StoredTaskInstance> states = settlement.all(new DagRunKey(DAG_ID, request.runId()));
    assertThat(states).hasSize(4);
    assertThat(states).allSatisfy(s -> {
      assertThat(s.state()).isEqualTo(TaskState.NONE);
      assertThat(s.tryNumber()).isZero();
      assertThat(s.id().version()).isEqualTo(7);
    });
  }

  @Test
  void aDifferentRunUnderAnExistingRunIdIsRefusedNamingTheDifference() {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    dagRuns.createExternal(externalRun(dag, runId, null, "{\"rows\": 4}"));

    assertThatThrownBy(() -> dagRuns.createExternal(externalRun(dag, runId, null, "{\"rows\": 5}")))
        .isInstanceOf(RunAlreadyExistsException.class)
        .hasMessageContaining(DAG_ID + "/" + runId).hasMessageContaining("conf");
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ?", runId)).isEqualTo(1);
  }

  @Test
  void aSecondRunOnATakenLogicalDateIsRefusedNamingTheRunHoldingIt() {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    // A random past minute, so reruns of this test never meet an earlier one's row.
    Instant logicalDate = Instant.parse("2000-01-01T00:00:00Z").plus(RANDOM.nextInt(5_000_000), ChronoUnit.MINUTES);
    String holder = newRunId();
    dagRuns.createExternal(externalRun(dag, holder, logicalDate, null));
    String second = newRunId();

    assertThatThrownBy(() -> dagRuns.createExternal(externalRun(dag, second, logicalDate, null)))
        .isInstanceOf(RunAlreadyExistsException.class)
        .hasMessageContaining("'" + holder + "'").hasMessageContaining(logicalDate.toString());
  }

  @Test
  void transitionsApplyOnceAndNeverMoveAFinishedTaskInstance() {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    creation.createAll(new DagRunKey(DAG_ID, runId), dag.dagVersionId(), chainTasks());
    UUID extract = settlement.all(new DagRunKey(DAG_ID, runId)).get(0).id();
    Instant start = Instant.parse("2026-01-01T10:00:00.250Z");

    assertThat(settlement.transition(extract, Set.of(TaskState.NONE), TaskState.SCHEDULED,
        TransitionDates.scheduled(start), 1)).isTrue();
    assertThat(settlement.transition(extract, Set.of(TaskState.NONE), TaskState.SCHEDULED,
        TransitionDates.scheduled(start), 1)).as("a repeated transition").isFalse();
    assertThat(settlement.transition(extract, Set.of(TaskState.SCHEDULED), TaskState.QUEUED, TransitionDates.queued(start), null))
        .isTrue();
    assertThat(settlement.transition(extract, Set.of(TaskState.QUEUED), TaskState.RUNNING, TransitionDates.started(start), null))
        .isTrue();
    assertThat(settlement.transition(extract, Set.of(TaskState.RUNNING), TaskState.SUCCESS,
        TransitionDates.ended(start.plus(Duration.ofMillis(1500))), null)).isTrue();
    assertThat(settlement.transition(extract, Set.of(TaskState.QUEUED, TaskState.SCHEDULED), TaskState.RUNNING, TransitionDates.NONE, null))
        .as("success -> running").isFalse();

    assertThat(creation.createAll(new DagRunKey(DAG_ID, runId), dag.dagVersionId(), chainTasks()))
        .as("creating again").isZero();
    assertThat(settlement.all(new DagRunKey(DAG_ID, runId)).get(0))
        .extracting(StoredTaskInstance::id, StoredTaskInstance::state, StoredTaskInstance::tryNumber)
        .containsExactly(extract, TaskState.SUCCESS, 1);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND duration = 1.5 AND start_date IS NOT NULL AND queued_dttm IS NOT NULL AND scheduled_dttm IS NOT NULL",
        runId)).isEqualTo(1);
  }

  @Test
  void aRunFinishesOnlyFromRunning() {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    Instant end = Instant.parse("2026-01-01T10:05:00Z");

    assertThat(dagRuns.finish(DAG_ID, runId, "success", end, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(dagRuns.finish(DAG_ID, runId, "failed", end.plusSeconds(1), 0))
        .isEqualTo(DagRuns.FinishOutcome.ENDED_ELSEWHERE);
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'success' "
        + "AND end_date = '2026-01-01T10:05:00Z'", runId)).isEqualTo(1);
  }

  @Test
  void ofTwoConcurrentResumptionsOfAClearedRunExactlyOneTakesItFromQueuedToRunning() throws Exception {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    // What clear_task_instances leaves on a finished run: queued, start_date and end_date cleared, clear_number + 1.
    airflowDb.update("UPDATE dag_run SET state = 'queued', start_date = NULL, end_date = NULL, queued_at = now(), "
        + "clear_number = clear_number + 1 WHERE dag_id = ? AND run_id = ?", DAG_ID, runId);

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<DagRuns.Resumption>> both = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        both.add(pool.submit(() -> {
          go.await();
          return dagRuns.resumeExternal(DAG_ID, runId).orElseThrow();
        }));
      }
      go.countDown();
      List<DagRuns.Resumption> results = new ArrayList<>();
      for (Future<DagRuns.Resumption> f : both) {
        results.add(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(results).filteredOn(DagRuns.Resumption::resumed).hasSize(1);
      assertThat(results).extracting(DagRuns.Resumption::previousState).containsExactlyInAnyOrder("queued", "running");
      assertThat(results).allSatisfy(r -> assertThat(r.run().clearNumber()).isEqualTo(1));
    } finally {
      pool.shutdownNow();
    }
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'running' "
        + "AND start_date IS NOT NULL AND end_date IS NULL", runId)).isEqualTo(1);
  }

  @Test
  void aWriteThatWaitedForAClearInProgressIsRolledBackOnceTheClearCommits() throws Exception {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    DagRunKey run = new DagRunKey(DAG_ID, runId);
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    creation.createAll(run, dag.dagVersionId(), chainTasks());

    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection clear = connect()) {
      // A clear's transaction as Airflow's clear_task_instances runs it: TI rows first, the run last.
      clear.setAutoCommit(false);
      try (PreparedStatement ti = clear.prepareStatement("UPDATE task_instance SET state = NULL, "
          + "id = gen_random_uuid() WHERE dag_id = ? AND run_id = ? AND task_id = 'transform'")) {
        ti.setString(1, DAG_ID);
        ti.setString(2, runId);
        ti.executeUpdate();
      }
      Future<Integer> mark = pool.submit(() -> settlement.markAll(run, 0,
          Map.of(new TaskInstanceRef("transform", -1), TaskState.UPSTREAM_FAILED)));
      waitUntilABackendWaitsForALock();
      try (PreparedStatement dr = clear.prepareStatement("UPDATE dag_run SET clear_number = clear_number + 1, "
          + "queued_at = now() WHERE dag_id = ? AND run_id = ?")) {
        dr.setString(1, DAG_ID);
        dr.setString(2, runId);
        dr.executeUpdate();
      }
      clear.commit();

      assertThatThrownBy(() -> mark.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(DagRunClearedException.class)
          .hasMessageContaining("clear_number 1, expected 0");
    } finally {
      pool.shutdownNow();
    }
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'transform' "
        + "AND state IS NULL", runId)).as("the mark was rolled back").isEqualTo(1);
    assertThat(settlement.markAll(run, 1, Map.of(new TaskInstanceRef("transform", -1), TaskState.UPSTREAM_FAILED)))
        .as("decided on the cleared run, it is written").isEqualTo(1);
  }

  @Test
  void aTryClearedWhileItRanGoesBackToNoneWithItsRetriesAgainOnce() throws Exception {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    DagRunKey run = new DagRunKey(DAG_ID, runId);
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    creation.createAll(run, dag.dagVersionId(), chainTasks());
    airflowDb.update("UPDATE task_instance SET state = 'restarting', try_number = 3, max_tries = 2 "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", DAG_ID, runId);

    assertThat(settlement.restartCleared(run, new TaskInstanceRef("extract", -1), 2, 1)).as("another try").isFalse();
    assertThat(settlement.restartCleared(run, new TaskInstanceRef("extract", -1), 3, 1)).isTrue();
    assertThat(settlement.restartCleared(run, new TaskInstanceRef("extract", -1), 3, 1)).as("repeated").isFalse();

    assertThat(settlement.all(run)).filteredOn(t -> t.ref().taskId().equals("extract"))
        .extracting(StoredTaskInstance::state, StoredTaskInstance::tryNumber, StoredTaskInstance::maxTries)
        .containsExactly(tuple(TaskState.NONE, 3, 4));
  }

  @Test
  void aRunClearedSinceItWasReadIsNotFinishedButOneMarkedInTheUiIsLeftAlone() throws SQLException {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String cleared = newRunId();
    dagRuns.createExternal(externalRun(dag, cleared, null, null));
    String marked = newRunId();
    dagRuns.createExternal(externalRun(dag, marked, null, null));
    airflowDb.update("UPDATE dag_run SET clear_number = 1 WHERE dag_id = ? AND run_id = ?", DAG_ID, cleared);
    airflowDb.update("UPDATE dag_run SET state = 'success' WHERE dag_id = ? AND run_id = ?", DAG_ID, marked);
    Instant end = Instant.parse("2026-01-01T10:05:00Z");

    assertThat(dagRuns.finish(DAG_ID, cleared, "failed", end, 0)).isEqualTo(DagRuns.FinishOutcome.CLEARED);
    assertThat(dagRuns.finish(DAG_ID, marked, "failed", end, 0)).isEqualTo(DagRuns.FinishOutcome.ENDED_ELSEWHERE);
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'running' "
        + "AND end_date IS NULL", cleared)).isEqualTo(1);
    assertThat(dagRuns.finish(DAG_ID, cleared, "failed", end, 1)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
  }

  /** Bounded wait until some backend of the test DB waits for a row lock (the write under test). */
  private static void waitUntilABackendWaitsForALock() throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      if (airflowDb.count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND datname = current_database()") > 0) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no backend waited for a lock within 30 s");
  }

  @Test
  void poolsReportTheirSlotsAndAnUnknownPoolIsNamed() {
    assertThat(pools.slots("default_pool")).isEqualTo(128);
    assertThatThrownBy(() -> pools.slots("no_such_pool"))
        .isInstanceOf(UnknownPoolException.class).hasMessageContaining("pool 'no_such_pool' does not exist");
  }

  private NewDagRun externalRun(SerializedDag dag, String runId, Instant logicalDate, String confJson) {
    Instant runAfter = logicalDate != null ? logicalDate : Instant.parse("2026-01-01T10:00:00Z");
    return new NewDagRun(DAG_ID, runId, "external", "running", logicalDate, null, null, runAfter, null, confJson,
        TriggeredBy.CLI, null, dag.bundleVersion(), dag.dagVersionId());
  }

  private String newRunId() {
    String runId = "external__dbsync_test_" + UUID.randomUUID();
    createdRunIds.add(runId);
    return runId;
  }

  private static List<NewTaskInstance> chainTasks() {
    return CHAIN.stream()
        .map(task -> new NewTaskInstance(task, -1, "default_pool", 1, "default", 1, 0,
            "_PythonDecoratedOperator", "@task", null, null))
        .toList();
  }

  private static int count(String sql, String runId) {
    return airflowDb.count(sql, DAG_ID, runId);
  }

  private static Connection connect() throws SQLException {
    return airflowDb.connect();
  }

  private static byte[] zlib(byte[] plain) throws IOException {
    ByteArrayOutputStream compressed = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(compressed)) {
      out.write(plain);
    }
    return compressed.toByteArray();
  }
}
