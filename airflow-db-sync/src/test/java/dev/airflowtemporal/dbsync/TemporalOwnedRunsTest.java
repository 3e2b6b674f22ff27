package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

  private static MigratedAirflowDb airflowDb;
  private static DatabaseUrl url;
  private static AirflowDatabase db;
  private static SerializedDags serializedDags;
  private static DagRuns dagRuns;
  private static TaskInstances taskInstances;
  private static Pools pools;

  private final List<String> createdRunIds = new ArrayList<>();

  @BeforeAll
  static void openDatabase() {
    airflowDb = MigratedAirflowDb.orSkip();
    url = airflowDb.url();
    db = AirflowDatabase.open(url, 2);
    serializedDags = new SerializedDags(db);
    dagRuns = new DagRuns(db);
    taskInstances = new TaskInstances(db);
    pools = new Pools(db);
  }

  @AfterAll
  static void closeDatabase() {
    if (db != null) {
      db.close();
    }
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
    assertThat(taskInstances.createAll(run, dag.dagVersionId(), chainTasks())).isEqualTo(4);
    assertThat(taskInstances.createAll(run, dag.dagVersionId(), chainTasks())).isZero();

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
    Map<TaskInstanceKey, TaskInstanceStatus> states = taskInstances.states(DAG_ID, request.runId());
    assertThat(states).hasSize(4);
    assertThat(states.values()).allSatisfy(s -> {
      assertThat(s.state()).isEqualTo(TaskInstances.NO_STATE);
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
    taskInstances.createAll(new DagRunKey(DAG_ID, runId), dag.dagVersionId(), chainTasks());
    UUID extract = taskInstances.states(DAG_ID, runId).get(new TaskInstanceKey("extract", -1)).id();
    Instant start = Instant.parse("2026-01-01T10:00:00.250Z");

    assertThat(taskInstances.transition(extract, Set.of(TaskInstances.NO_STATE), "scheduled",
        TransitionDates.scheduled(start), 1)).isTrue();
    assertThat(taskInstances.transition(extract, Set.of(TaskInstances.NO_STATE), "scheduled",
        TransitionDates.scheduled(start), 1)).as("a repeated transition").isFalse();
    assertThat(taskInstances.transition(extract, Set.of("scheduled"), "queued", TransitionDates.queued(start), null))
        .isTrue();
    assertThat(taskInstances.transition(extract, Set.of("queued"), "running", TransitionDates.started(start), null))
        .isTrue();
    assertThat(taskInstances.transition(extract, Set.of("running"), "success",
        TransitionDates.ended(start.plus(Duration.ofMillis(1500))), null)).isTrue();
    assertThat(taskInstances.transition(extract, Set.of("queued", "scheduled"), "running", TransitionDates.NONE, null))
        .as("success -> running").isFalse();

    assertThat(taskInstances.createAll(new DagRunKey(DAG_ID, runId), dag.dagVersionId(), chainTasks()))
        .as("creating again").isZero();
    assertThat(taskInstances.states(DAG_ID, runId).get(new TaskInstanceKey("extract", -1)))
        .isEqualTo(new TaskInstanceStatus(extract, "success", 1));
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND duration = 1.5 AND start_date IS NOT NULL AND queued_dttm IS NOT NULL AND scheduled_dttm IS NOT NULL",
        runId)).isEqualTo(1);
    assertThatThrownBy(() -> taskInstances.transition(extract, Set.of("succes"), "running", TransitionDates.NONE, null))
        .hasMessageContaining("'succes' is not an Airflow 3.3 TaskInstance state");
  }

  @Test
  void aRunFinishesOnlyFromRunning() {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = newRunId();
    dagRuns.createExternal(externalRun(dag, runId, null, null));
    Instant end = Instant.parse("2026-01-01T10:05:00Z");

    assertThat(dagRuns.finish(DAG_ID, runId, "success", end)).isTrue();
    assertThat(dagRuns.finish(DAG_ID, runId, "failed", end.plusSeconds(1))).isFalse();
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'success' "
        + "AND end_date = '2026-01-01T10:05:00Z'", runId)).isEqualTo(1);
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
