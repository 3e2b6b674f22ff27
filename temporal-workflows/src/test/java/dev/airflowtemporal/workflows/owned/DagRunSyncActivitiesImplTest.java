package dev.airflowtemporal.workflows.owned;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.SettledAttempt;
import dev.airflowtemporal.core.dag.TaskInstanceMark;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskInstanceSnapshot;
import dev.airflowtemporal.core.dag.TaskState;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.FernetKeys;
import dev.airflowtemporal.dbsync.DagRuns;
import dev.airflowtemporal.dbsync.DatabaseUrl;
import dev.airflowtemporal.dbsync.MigratedAirflowDb;
import dev.airflowtemporal.dbsync.SerializedDags;
import dev.airflowtemporal.dbsync.WaitingTaskInstances;
import dev.airflowtemporal.workflows.WireTestEnvironment;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepActivitiesImpl;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepSettings;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepSummary;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.workflow.Workflow;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link DagRunSyncActivitiesImpl} against PostgreSQL migrated by the real {@code airflow db migrate},
 * with examples/dags serialized by the real {@code airflow dags reserialize} (scripts/stack.py db-up).
 *
 * <p>Each test works on DAGs of its own: {@code dag}, {@code dag_version} and {@code serialized_dag}
 * rows inserted here under a test-only dag id, their JSON the real serialized
 * {@code example_temporal_chain} (extract -> transform -> validate -> load), mutated. Everything a test
 * inserts or creates (runs, their TaskInstances and history, audit-log rows, DAGs, pools) is deleted
 * afterwards.
 */
class DagRunSyncActivitiesImplTest {
  private static final String TEMPLATE_DAG_ID = "example_temporal_chain";
  /** examples/dags/e2e_owned_params.py: a required param {@code name}, and {@code count} (integer, minimum 1). */
  private static final String PARAMS_DAG_ID = "e2e_owned_params";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private static MigratedAirflowDb airflowDb;
  private static DatabaseUrl url;
  private static AirflowDatabase db;
  private static ObjectNode template;
  /** The params of {@link #PARAMS_DAG_ID} as Airflow serialized them. */
  private static JsonNode serializedParams;
  private static DagRunSyncActivitiesImpl activities;
  private static DagRunListeners listeners;
  private static ParamsCheck paramsCheck;
  private static Path notifications;

  private final List<String> dagIds = new ArrayList<>();
  private final List<String> poolNames = new ArrayList<>();

  @BeforeAll
  static void openDatabase() throws Exception {
    airflowDb = MigratedAirflowDb.orSkip();
    url = airflowDb.url();
    db = AirflowDatabase.open(url, 2);
    template = (ObjectNode) JSON.readTree(new SerializedDags(db).latest(TEMPLATE_DAG_ID).json());
    serializedParams = JSON.readTree(new SerializedDags(db).latest(PARAMS_DAG_ID).json()).path("dag").path("params");
    // Airflow's own check: the venv's Python, as the worker's --python
    String venv = System.getenv("AT_VENV");
    // The listeners' process stood in for by one that records each notification as a JSON line (the real one,
    // with a real listener plugin: test_e2e_owned_listeners.py).
    notifications = Files.createTempFile("dag-run-listeners-", ".jsonl");
    listeners = new DagRunListeners(List.of("sh", "-c",
        "while IFS= read -r line; do printf '%s\\n' \"$line\" >> '" + notifications + "'; echo '{\"called\": true}'; done"));
    paramsCheck = ParamsCheck.forPython(venv == null ? "python3" : venv + "/bin/python");
    activities = new DagRunSyncActivitiesImpl(db, Duration.ofSeconds(42), new DagRunSyncActivitiesImpl.PythonSteps(
        paramsCheck, listeners), FernetKeys.parse(null));
  }

  @AfterAll
  static void closeDatabase() throws IOException {
    if (paramsCheck != null) {
      paramsCheck.close();
    }
    if (listeners != null) {
      listeners.close();
      Files.deleteIfExists(notifications);
    }
    if (db != null) {
      db.close();
    }
  }

  /** Runs (with their TaskInstances and history, by ON DELETE CASCADE), audit log, DAGs, pools. */
  @AfterEach
  void deleteWhatTheTestCreated() throws SQLException {
    try (Connection c = connect()) {
      for (String dagId : dagIds) {
        for (String sql : List.of("DELETE FROM dag_run WHERE dag_id = ?", "DELETE FROM log WHERE dag_id = ?",
            "DELETE FROM dag WHERE dag_id = ?")) {
          try (PreparedStatement delete = c.prepareStatement(sql)) {
            delete.setString(1, dagId);
            delete.executeUpdate();
          }
        }
      }
      for (String pool : poolNames) {
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM slot_pool WHERE pool = ?")) {
          delete.setString(1, pool);
          delete.executeUpdate();
        }
      }
    }
  }

  // ---- rejected at trigger time, nothing written ----

  @Test
  void anUnknownDagIsRejectedSayingWhereToLook() {
    String dagId = "validation_no_such_dag_" + UUID.randomUUID();
    dagIds.add(dagId);
    assertRejectedWithNothingCreated(request(dagId), "DAG '" + dagId + "' is not in Airflow's metadata DB");
  }

  @Test
  void aPausedDagIsRejectedSayingHowToUnpauseIt() throws SQLException {
    String dagId = insertDag(dag -> { }, true);
    assertRejectedWithNothingCreated(request(dagId), "DAG '" + dagId + "' is paused",
        "airflow dags unpause " + dagId);
  }

  @Test
  void aConfThatIsNotAJsonObjectIsRejectedAsAnInvalidRequest() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    ArrayNode list = JsonNodeFactory.instance.arrayNode().add(1).add(2);
    assertRejectedWithNothingCreated(withConf(request(dagId), list), "conf must be a JSON object, got array [1,2]");
    assertRejectedWithNothingCreated(withConf(request(dagId), JsonNodeFactory.instance.textNode("rows=4")),
        "conf must be a JSON object, got string");
  }

  @Test
  void aConfTheDagsParamsRejectIsRejectedWithAirflowsMessageAndTheFix() throws SQLException {
    String dagId = insertDag(dag -> dag.set("params", serializedParams), false);
    assertRejectedWithNothingCreated(request(dagId), "the run's conf does not satisfy the DAG's params: "
        + "Invalid input for param name", "pass a conf that does");
    assertRejectedWithNothingCreated(withConf(request(dagId), JSON.valueToTree(Map.of("name", "x", "count", 0))),
        "Invalid input for param count: 0 is less than the minimum of 1");
  }

  @Test
  void aConfTheDagsParamsAcceptCreatesTheRunWithThatConf() throws SQLException {
    String dagId = insertDag(dag -> dag.set("params", serializedParams), false);
    OwnedDagRunRequest request = withConf(request(dagId), JSON.valueToTree(Map.of("name", "x", "other", 1)));
    activities.createDagRun(request);
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND conf->>'name' = 'x'",
        dagId, request.runId())).isOne();
  }

  @Test
  void aTaskInAPoolThatDoesNotExistIsRejectedNamingTaskAndPool() throws SQLException {
    String pool = "validation_missing_pool_" + UUID.randomUUID();
    String dagId = insertDag(dag -> task(dag, "transform").put("pool", pool), false);
    assertRejectedWithNothingCreated(request(dagId), "task 'transform'", "pool '" + pool + "' does not exist");
  }

  @Test
  void aPoolSmallerThanATasksPoolSlotsIsRejectedNamingTaskPoolAndSizes() throws SQLException {
    String pool = insertPool(2);
    String dagId = insertDag(dag -> {
      task(dag, "validate").put("pool", pool).put("pool_slots", 3);
      task(dag, "load").put("pool", pool).put("pool_slots", 2);
    }, false);
    ApplicationFailure failure = assertRejectedWithNothingCreated(request(dagId),
        "task 'validate' needs 3 slots (pool_slots) but pool '" + pool + "' has 2");
    assertThat(failure.getOriginalMessage()).as("load fits").doesNotContain("'load'");
  }

  @Test
  void aSerializedDagOfAnUnsupportedVersionIsRejectedNamingTheVersion() throws SQLException {
    String dagId = insertDag(dag -> { }, false, root -> root.put("__version", 2));
    assertRejectedWithNothingCreated(request(dagId), "\"__version\" 2 is not supported", "supported version is 3");
  }

  @Test
  void aCycleIsRejectedNamingItsTasks() throws SQLException {
    String dagId = insertDag(dag -> task(dag, "load").putArray("downstream_task_ids").add("extract"), false);
    assertRejectedWithNothingCreated(request(dagId),
        "DAG '" + dagId + "' has a cycle: extract -> transform -> validate -> load -> extract");
  }

  @Test
  void aDownstreamNamingAMissingTaskIsRejectedNamingBoth() throws SQLException {
    String dagId = insertDag(dag -> task(dag, "load").putArray("downstream_task_ids").add("publish"), false);
    assertRejectedWithNothingCreated(request(dagId), "task 'load' has downstream 'publish', which is not a task");
  }

  @Test
  void anInvalidCronInTheTimetableIsRejectedNamingTheExpression() throws SQLException {
    String dagId = insertDag(dag -> dag.set("timetable", JSON.valueToTree(Map.of(
        "__type", "airflow.timetables.trigger.CronTriggerTimetable",
        "__var", Map.of("expression", "61 * * * *", "timezone", "UTC", "interval", 0.0, "run_immediately", false)))),
        false);
    assertRejectedWithNothingCreated(request(dagId), "timetable cron expression '61 * * * *' is invalid",
        "Value 61 not in range [0, 59]");
  }

  @Test
  void aTaskMappedOverAMappedTasksOutputExpandsToTheValuesItsInstancesReturned() throws SQLException {
    String dagId = insertDag(dag -> {
      mapOver(task(dag, "transform"), "extract");
      mapOver(task(dag, "validate"), "transform");
    }, false);
    CreatedDagRun created = activities.createDagRun(request(dagId));
    DagPlan plan = created.plan().unpack();
    String runId = created.run().runId();
    airflowDb.update("INSERT INTO task_map (dag_id, task_id, run_id, map_index, length, keys) "
        + "VALUES (?, 'extract', ?, -1, 2, NULL)", dagId, runId);
    assertThat(activities.expandMappedTask(created.run(), plan.task("transform"), 1)).isEqualTo(2);
    assertThat(activities.expandMappedTask(created.run(), plan.task("validate"), 1))
        .as("transform's instances have not run").isEqualTo(-1);

    airflowDb.update("UPDATE task_instance SET state = 'success' WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'transform'", dagId, runId);
    for (int mapIndex = 0; mapIndex < 2; mapIndex++) {
      airflowDb.update("INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp) "
          + "SELECT id, 'transform', " + mapIndex + ", 'return_value', dag_id, run_id, '1', now() FROM dag_run "
          + "WHERE dag_id = ? AND run_id = ?", dagId, runId);
    }
    assertThat(activities.expandMappedTask(created.run(), plan.task("validate"), 1)).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'validate' "
        + "AND map_index >= 0 AND state IS NULL", dagId, runId)).isEqualTo(2);
  }

  @Test
  void aTaskMappedOverANestedZipAndConcatCountsEachUpstreamAsAirflowDoes() throws SQLException {
    // extract.zip(transform.map(f).concat(extract), fillvalue=None): transform is mapped, extract is not.
    Map<String, Object> concat = Map.of("type", "concat", "args", List.of(
        Map.of("type", "map", "arg", xcom("transform"), "callables", List.of("def f(x): return x")), xcom("extract")));
    Map<String, Object> zip = new LinkedHashMap<>();
    zip.put("type", "zip");
    zip.put("args", List.of(xcom("extract"), concat));
    zip.put("fillvalue", null);
    String dagId = insertDag(dag -> {
      mapOver(task(dag, "transform"), "extract");
      mapOver(task(dag, "validate"), zip);
    }, false);
    CreatedDagRun created = activities.createDagRun(request(dagId));
    DagPlan plan = created.plan().unpack();
    String runId = created.run().runId();
    airflowDb.update("INSERT INTO task_map (dag_id, task_id, run_id, map_index, length, keys) "
        + "VALUES (?, 'extract', ?, -1, 2, NULL)", dagId, runId);
    assertThat(activities.expandMappedTask(created.run(), plan.task("transform"), 1)).isEqualTo(2);
    assertThat(activities.expandMappedTask(created.run(), plan.task("validate"), 1))
        .as("transform's instances have not run").isEqualTo(-1);

    airflowDb.update("UPDATE task_instance SET state = 'success' WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'transform'", dagId, runId);
    // Only instance 0 returned a value (the other returned None): transform's length is 1, the concat's 1 + 2.
    airflowDb.update("INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp) "
        + "SELECT id, 'transform', 0, 'return_value', dag_id, run_id, '1', now() FROM dag_run "
        + "WHERE dag_id = ? AND run_id = ?", dagId, runId);
    assertThat(activities.expandMappedTask(created.run(), plan.task("validate"), 1))
        .as("the longest of extract (2) and the concat (3), for the fillvalue").isEqualTo(3);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'validate' "
        + "AND map_index >= 0 AND state IS NULL", dagId, runId)).isEqualTo(3);
  }

  @Test
  void aTaskInAMappedTaskGroupExpandsToTheGroupsLengthTimesThatOfTheGroupAroundIt() throws SQLException {
    Map<String, Object> inner = Map.of("_group_id", "inner", "is_mapped", true, "expand_input", literalExpandInput(2),
        "children", Map.of("load", List.of("operator", "load")));
    Map<String, Object> outer = Map.of("_group_id", "outer", "is_mapped", true, "expand_input", literalExpandInput(3),
        "children", Map.of("outer.inner", List.of("taskgroup", inner)));
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("_group_id", null);
    root.put("children", Map.of("extract", List.of("operator", "extract"), "transform", List.of("operator", "transform"),
        "validate", List.of("operator", "validate"), "outer", List.of("taskgroup", outer)));
    String dagId = insertDag(dag -> dag.set("task_group", JSON.valueToTree(root)), false);
    CreatedDagRun created = activities.createDagRun(request(dagId));

    assertThat(activities.expandMappedTask(created.run(), created.plan().unpack().task("load"), 1)).isEqualTo(6);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'load' "
        + "AND map_index BETWEEN 0 AND 5", dagId, created.run().runId())).isEqualTo(6);
  }

  private static Map<String, Object> literalExpandInput(int length) {
    return Map.of("type", "dict-of-lists", "value", Map.of("__type", "dict", "__var",
        Map.of("x", Collections.nCopies(length, 1))));
  }

  @Test
  void aLogicalDateTakenByAnotherRunIsRejectedNamingThatRun() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    // A random past minute, so reruns never meet an earlier run's row.
    OffsetDateTime logicalDate = OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)
        .plusMinutes(RANDOM.nextInt(5_000_000));
    OwnedDagRunRequest holder = withLogicalDate(request(dagId), logicalDate);
    activities.createDagRun(holder);

    OwnedDagRunRequest second = withLogicalDate(request(dagId), logicalDate);
    assertRejectedWithNothingCreated(second, "run '" + holder.runId() + "'",
        logicalDate.toInstant().toString(), "one run per logical date");
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ?", dagId, holder.runId()))
        .as("the holder's TaskInstances are untouched").isEqualTo(4);
  }

  // ---- created ----

  @Test
  void theSameRequestTwiceReturnsTheSameRunWithoutDuplicateTaskInstances() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    OwnedDagRunRequest request = withConf(request(dagId), JSON.valueToTree(Map.of("rows", 4)));

    CreatedDagRun first = activities.createDagRun(request);
    Map<String, UUID> idsBefore = taskInstanceIds(dagId, request.runId());
    CreatedDagRun again = activities.createDagRun(request);

    assertThat(again).isEqualTo(first);
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ?", dagId, request.runId()))
        .isEqualTo(1);
    assertThat(taskInstanceIds(dagId, request.runId())).as("the same four TaskInstances").isEqualTo(idsBefore)
        .hasSize(4);
  }

  @Test
  void aRunIsCreatedRunningAndExternalWithTaskInstancesAsAirflowWouldCreateThem() throws SQLException {
    String dagId = insertDag(dag -> {
      task(dag, "transform").put("priority_weight", 5).put("retries", 2);
      task(dag, "load").put("retries", 1);
    }, false);
    OffsetDateTime logicalDate = OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)
        .plusMinutes(RANDOM.nextInt(5_000_000));
    OwnedDagRunRequest request = withConf(withLogicalDate(request(dagId), logicalDate),
        JSON.valueToTree(Map.of("rows", 4)));

    CreatedDagRun created = activities.createDagRun(request);

    UUID versionId = dagVersionId(dagId);
    assertThat(created.run().startDate()).as("a running run's start_date, whence its dagrun_timeout runs").isNotNull();
    assertThat(created.run()).isEqualTo(new OwnedRun(dagId, request.runId(), versionId, dagId + ".py", "dags-folder",
        null, logicalDate, 0, Duration.ofSeconds(42), created.run().startDate()));
    assertThat(created.plan().unpack().dagId()).isEqualTo(dagId);
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement("""
        SELECT run_type, state, created_dag_version_id, conf->>'rows', start_date IS NOT NULL, logical_date,
               data_interval_start, data_interval_end, triggered_by, triggering_user_name
        FROM dag_run WHERE dag_id = ? AND run_id = ?""")) {
      q.setString(1, dagId);
      q.setString(2, request.runId());
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("external");
        assertThat(rs.getString(2)).isEqualTo("running");
        assertThat(rs.getObject(3, UUID.class)).isEqualTo(versionId);
        assertThat(rs.getString(4)).isEqualTo("4");
        assertThat(rs.getBoolean(5)).isTrue();
        assertThat(rs.getObject(6, OffsetDateTime.class).toInstant()).isEqualTo(logicalDate.toInstant());
        assertThat(rs.getObject(7, OffsetDateTime.class).toInstant()).isEqualTo(logicalDate.toInstant());
        assertThat(rs.getObject(8, OffsetDateTime.class).toInstant()).isEqualTo(logicalDate.toInstant());
        assertThat(rs.getString(9)).isEqualTo("CLI");
        assertThat(rs.getString(10)).isEqualTo("validation-test");
      }
    }
    // Airflow's default weight_rule 'downstream': a task's own priority_weight plus its downstreams'.
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("extract", "8 0");
    expected.put("transform", "7 2");
    expected.put("validate", "2 0");
    expected.put("load", "1 1");
    Map<String, String> weightsAndMaxTries = new LinkedHashMap<>();
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement("""
        SELECT task_id, priority_weight, max_tries, state, try_number, dag_version_id, map_index, pool, pool_slots,
               queue, operator, id, custom_operator_name, task_display_name
        FROM task_instance WHERE dag_id = ? AND run_id = ?""")) {
      q.setString(1, dagId);
      q.setString(2, request.runId());
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          weightsAndMaxTries.put(rs.getString(1), rs.getInt(2) + " " + rs.getInt(3));
          assertThat(rs.getString(4)).as("state None").isNull();
          assertThat(rs.getInt(5)).isZero();
          assertThat(rs.getObject(6, UUID.class)).isEqualTo(versionId);
          assertThat(rs.getInt(7)).isEqualTo(-1);
          assertThat(rs.getString(8)).isEqualTo("default_pool");
          assertThat(rs.getInt(9)).isEqualTo(1);
          assertThat(rs.getString(10)).isEqualTo("default");
          assertThat(rs.getString(11)).isEqualTo("_PythonDecoratedOperator");
          assertThat(rs.getObject(12, UUID.class).version()).as("uuid7, as Airflow's").isEqualTo(7);
          assertThat(rs.getString(13)).as("operator_name of a @task").isEqualTo("@task");
          assertThat(rs.getString(14)).as("no display name: the task id").isEqualTo(rs.getString(1));
        }
      }
    }
    assertThat(weightsAndMaxTries).as("priority_weight and max_tries by task").isEqualTo(expected);
  }

  @Test
  void attemptsAreQueuedInTheGivenOrderWhilePoolsHaveRoomAndOnlyOnce() throws SQLException {
    String pool = insertPool(1);
    String dagId = insertDag(dag -> {
      task(dag, "transform").put("pool", pool);
      task(dag, "validate").put("pool", pool);
    }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    List<AttemptToQueue> attempts = List.of(new AttemptToQueue("validate", -1, 1),
        new AttemptToQueue("transform", -1, 1), new AttemptToQueue("extract", -1, 1));

    Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<QueueResult> results = activities.queueAttempts(run, attempts);

    assertThat(results).extracting(QueueResult::taskId, QueueResult::outcome, QueueResult::tryNumber).containsExactly(
        tuple("validate", QueueResult.Outcome.QUEUED, 1),
        tuple("transform", QueueResult.Outcome.POOL_FULL, 0),
        tuple("extract", QueueResult.Outcome.QUEUED, 1));
    assertThat(results.get(0).queuedAt()).isAfterOrEqualTo(before);
    Map<String, UUID> ids = taskInstanceIds(dagId, run.runId());
    assertThat(results.get(0).taskInstanceId()).isEqualTo(ids.get("validate"));
    assertThat(results.get(2).taskInstanceId()).isEqualTo(ids.get("extract"));
    assertThat(states(dagId, run.runId())).containsEntry("validate", "queued 1").containsEntry("transform", "null 0")
        .containsEntry("extract", "queued 1").containsEntry("load", "null 0");

    List<QueueResult> again = activities.queueAttempts(run, attempts);
    assertThat(again).extracting(QueueResult::outcome).as("a retried activity takes no second slot")
        .containsExactly(QueueResult.Outcome.QUEUED, QueueResult.Outcome.POOL_FULL, QueueResult.Outcome.QUEUED);
    assertThat(again.get(0).taskInstanceId()).isEqualTo(ids.get("validate"));
    assertThat(states(dagId, run.runId())).containsEntry("validate", "queued 1").containsEntry("transform", "null 0");
  }

  @Test
  void aRetryableAttemptTheRunnerLeftQueuedBecomesUpForRetryWithANewIdAndOneHistoryRow() throws SQLException {
    String dagId = insertDag(dag -> task(dag, "extract").put("retries", 1), false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult queued = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    assertThat(queued.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);

    SettledAttempt settled = activities.settleAttempt(run, "extract", -1, 1, queued.queuedAt(), 1);
    SettledAttempt repeated = activities.settleAttempt(run, "extract", -1, 1, queued.queuedAt(), 1);

    assertThat(settled.state()).isEqualTo(TaskState.UP_FOR_RETRY);
    assertThat(settled.tryNumber()).isEqualTo(1);
    assertThat(settled.endDate()).isNotNull();
    assertThat(settled.skipped()).isEmpty();
    assertThat(repeated.state()).as("settling again changes nothing").isEqualTo(TaskState.UP_FOR_RETRY);
    UUID newId = taskInstanceIds(dagId, run.runId()).get("extract");
    assertThat(newId).as("the next try gets a new id").isNotEqualTo(queued.taskInstanceId());
    assertThat(newId.version()).isEqualTo(7);
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ?", dagId, run.runId()))
        .isEqualTo(1);
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement("""
        SELECT task_instance_id, task_id, try_number, state FROM task_instance_history
        WHERE dag_id = ? AND run_id = ?""")) {
      q.setString(1, dagId);
      q.setString(2, run.runId());
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getObject(1, UUID.class)).as("the try is archived under its own id")
            .isEqualTo(queued.taskInstanceId());
        assertThat(rs.getString(2)).isEqualTo("extract");
        assertThat(rs.getInt(3)).isEqualTo(1);
        assertThat(rs.getString(4)).isEqualTo("failed");
      }
    }
    assertThat(states(dagId, run.runId())).containsEntry("extract", "up_for_retry 1");

    List<QueueResult> secondTry = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 2)));
    assertThat(secondTry.get(0).outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    assertThat(secondTry.get(0).taskInstanceId()).isEqualTo(newId);
    assertThat(states(dagId, run.runId())).containsEntry("extract", "queued 2");
  }

  @Test
  void anAttemptThatCannotBeRetriedTheRunnerLeftQueuedBecomesFailed() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult queued = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);

    SettledAttempt settled = activities.settleAttempt(run, "extract", -1, 1, queued.queuedAt(), 0);

    assertThat(settled.state()).isEqualTo(TaskState.FAILED);
    assertThat(settled.tryNumber()).isEqualTo(1);
    assertThat(taskInstanceIds(dagId, run.runId()).get("extract")).isEqualTo(queued.taskInstanceId());
    assertThat(states(dagId, run.runId())).containsEntry("extract", "failed 1");
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ?", dagId, run.runId()))
        .isZero();
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND end_date IS NOT NULL", dagId, run.runId())).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM log WHERE dag_id = ? AND run_id = ? AND event = 'failed'", dagId,
        run.runId())).as("the audit log shows the failure").isEqualTo(1);
  }

  @Test
  void tasksTheTriggerRulesSettledAreMarkedAndTheRunFinishesOnce() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult queued = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    activities.settleAttempt(run, "extract", -1, 1, queued.queuedAt(), 0);
    activities.markTasks(run, List.of(mark("transform", TaskState.UPSTREAM_FAILED),
        mark("validate", TaskState.UPSTREAM_FAILED), mark("load", TaskState.SKIPPED)));
    activities.markTasks(run, List.of(mark("extract", TaskState.SKIPPED)));
    activities.finishDagRun(run, "failed");
    activities.finishDagRun(run, "success");

    assertThat(states(dagId, run.runId())).isEqualTo(Map.of("extract", "failed 1", "transform", "upstream_failed 0",
        "validate", "upstream_failed 0", "load", "skipped 0"));
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'failed' "
        + "AND end_date IS NOT NULL", dagId, run.runId())).as("finished failed, then left alone").isEqualTo(1);
  }

  @Test
  void aRunBeyondTheDagsMaxActiveRunsIsCreatedQueuedAndStartsOnlyOnceARunningRunEnds() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    update("UPDATE dag SET max_active_runs = 1 WHERE dag_id = ?", dagId);
    CreatedDagRun first = activities.createDagRun(request(dagId));
    CreatedDagRun second = activities.createDagRun(request(dagId));

    assertThat(first.queued()).isFalse();
    assertThat(runRow(dagId, first.run().runId())).startsWith("running ");
    assertThat(second.queued()).as("max_active_runs = 1 and one run is running").isTrue();
    assertThat(runRow(dagId, second.run().runId())).isEqualTo("queued clear_number=0 start_date=null end_date=null");
    assertThat(states(dagId, second.run().runId())).as("its task instances exist, as for a queued Airflow run")
        .hasSize(4);

    ResumedDagRun whileFull = activities.resumeDagRun(dagId, second.run().runId(), List.of());
    assertThat(whileFull.run()).as("nothing to drive yet").isNull();
    assertThat(whileFull.state()).isEqualTo("queued");

    activities.finishDagRun(first.run(), "success");
    ResumedDagRun started = activities.resumeDagRun(dagId, second.run().runId(), List.of());

    assertThat(started.resumed()).isTrue();
    assertThat(started.run().runId()).isEqualTo(second.run().runId());
    assertThat(runRow(dagId, second.run().runId())).isEqualTo("running clear_number=0 start_date=set end_date=null");
  }

  // ---- listener plugins' DagRun hooks ----

  @Test
  void aRunItsStepsStartedAndEndedIsHandedToTheListenersOnceEachAndNotAgainOnRetries() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedDagRunRequest request = request(dagId);
    OwnedRun run = activities.createDagRun(request).run();
    activities.createDagRun(request); // a retry after a lost answer: finds the run it created
    activities.finishDagRun(run, "success");
    activities.finishDagRun(run, "success"); // a retry after its commit: finds the run ended

    assertThat(listenersGot(dagId)).containsExactly(run.runId() + " running started",
        run.runId() + " success success");
  }

  @Test
  void aQueuedRunIsStartedForTheListenersWhenItsStepStartsItAndAFailedOneEndsAsUpdateStateNamesIt()
      throws Exception {
    String dagId = insertDag(dag -> { }, false);
    update("UPDATE dag SET max_active_runs = 1 WHERE dag_id = ?", dagId);
    OwnedRun first = activities.createDagRun(request(dagId)).run();
    OwnedRun second = activities.createDagRun(request(dagId)).run();
    activities.resumeDagRun(dagId, second.runId(), List.of()); // still queued: nothing to tell
    activities.finishDagRun(first, "failed");
    activities.resumeDagRun(dagId, second.runId(), List.of());
    activities.resumeDagRun(dagId, second.runId(), List.of()); // already running: started once
    activities.timeOutDagRun(activities.resumeDagRun(dagId, second.runId(), List.of()).run());

    // a failed end's msg (task_failure or all_tasks_deadlocked) is named by the listeners' process: null here
    assertThat(listenersGot(dagId)).containsExactly(first.runId() + " running started",
        first.runId() + " failed null", second.runId() + " running started", second.runId() + " failed timed_out");
  }

  /** "run_id state msg" of every notification about the DAG's runs, once those handed over so far were delivered. */
  private static List<String> listenersGot(String dagId) throws Exception {
    listeners.notify("flush", "flush", "running", null).get(30, java.util.concurrent.TimeUnit.SECONDS);
    List<String> got = new ArrayList<>();
    for (String line : Files.readAllLines(notifications)) {
      JsonNode n = JSON.readTree(line);
      if (dagId.equals(n.path("dag_id").asText())) {
        got.add(n.path("run_id").asText() + " " + n.path("state").asText() + " " + n.path("msg").asText("null"));
      }
    }
    return got;
  }

  // ---- a run its workflow cannot drive any further ----

  @Test
  void aFailedWorkflowsRunIsFailedAsMarkRunAsFailedDoesRunningTriesFailedTheOtherUnfinishedSkipped()
      throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    runTry(run, "extract", 1, "success");
    activities.queueAttempts(run, List.of(new AttemptToQueue("transform", -1, 1)));
    runnerStarted(run, "transform");
    activities.queueAttempts(run, List.of(new AttemptToQueue("validate", -1, 1)));  // queued, not yet picked up

    activities.failDagRun(dagId, run.runId(), "step settle_attempt failed: java.lang.NullPointerException");
    activities.failDagRun(dagId, run.runId(), "the same failure, told twice");

    assertThat(runRow(dagId, run.runId())).isEqualTo("failed clear_number=0 start_date=set end_date=set");
    assertThat(states(dagId, run.runId())).isEqualTo(Map.of("extract", "success 1", "transform", "failed 1",
        "validate", "skipped 1", "load", "skipped 0"));
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND end_date IS NULL",
        dagId, run.runId())).isZero();
  }

  @Test
  void aRunThatHadEndedIsLeftAsItIsWhenItsWorkflowFailsAfterwards() throws SQLException {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    runTry(run, "extract", 1, "success");
    activities.finishDagRun(run, "success");  // e.g. "Mark run as success" in the UI

    activities.failDagRun(dagId, run.runId(), "a bug after the end");

    assertThat(runRow(dagId, run.runId())).startsWith("success ");
    assertThat(states(dagId, run.runId())).containsEntry("extract", "success 1").containsEntry("load", "null 0");
  }

  @Test
  void onlyAnUnreachableDatabaseIsRetriedEveryOtherDatabaseErrorIsPermanent() throws Exception {
    // A real connection refused (no server on port 1), through the worker's pool as a step meets it.
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/airflow");
    config.setConnectionTimeout(250);
    config.setInitializationFailTimeout(-1);
    try (HikariDataSource unreachable = new HikariDataSource(config)) {
      Throwable refused = catchThrowable(unreachable::getConnection);
      assertThat(refused).isNotNull();
      assertRetryable(DatabaseFailures.classify(refused));
    }
    // Real errors of the real DB: a unique constraint, a column the schema does not have.
    Throwable duplicate = catchThrowable(() -> db.sessionFactory().inTransaction(s -> s.createNativeMutationQuery(
        "INSERT INTO slot_pool (pool, slots, include_deferred) VALUES ('default_pool', 1, false)").executeUpdate()));
    Throwable noColumn = catchThrowable(() -> db.sessionFactory().inTransaction(s -> s.createNativeQuery(
        "SELECT no_such_column FROM dag_run", Object.class).getResultList()));
    for (Throwable permanent : List.of(duplicate, noColumn, new IllegalStateException("a bug"))) {
      assertThat(permanent).isNotNull();
      RuntimeException classified = DatabaseFailures.classify(permanent);
      assertThat(classified).isInstanceOf(ApplicationFailure.class);
      assertThat(((ApplicationFailure) classified).isNonRetryable()).as(permanent.toString()).isTrue();
    }
    // Through the activities as the worker registers them: a refusal keeps its type and stays final.
    DagRunSyncActivities registered = DatabaseFailures.classifying(activities);
    Throwable rejected = catchThrowable(() -> registered.createDagRun(request("no_such_dag_" + RANDOM.nextInt(1000))));
    assertThat(((ApplicationFailure) rejected).getType()).isEqualTo(DagRunSyncActivities.REJECTED);
    assertThat(((ApplicationFailure) rejected).isNonRetryable()).isTrue();
  }

  private static void assertRetryable(RuntimeException classified) {
    assertThat(classified).isInstanceOf(ApplicationFailure.class);
    assertThat(((ApplicationFailure) classified).getType()).isEqualTo(DagRunSyncActivities.DATABASE_UNAVAILABLE);
    assertThat(((ApplicationFailure) classified).isNonRetryable()).isFalse();
  }

  // ---- cleared in Airflow (by Airflow's own clear_task_instances, as the UI's Clear and the REST API do) ----

  @Test
  void aFailedRunClearedByAirflowIsResumedOnceWithEachTaskInstanceReadBackAsTheClearLeftIt() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    runTry(run, "extract", 1, "success");
    runTry(run, "transform", 1, "failed");
    activities.markTasks(run, List.of(mark("validate", TaskState.UPSTREAM_FAILED), mark("load", TaskState.UPSTREAM_FAILED)));
    activities.finishDagRun(run, "failed");
    Map<String, UUID> idsBefore = taskInstanceIds(dagId, run.runId());

    airflowClear(dagId, run.runId(), "transform", "validate", "load");  // Clear on transform, with downstream

    // What Airflow's clear left: the run queued again, each cleared try archived and given a new id.
    assertThat(runRow(dagId, run.runId())).isEqualTo("queued clear_number=1 start_date=null end_date=null");
    assertThat(states(dagId, run.runId())).isEqualTo(Map.of("extract", "success 1", "transform", "null 1",
        "validate", "null 0", "load", "null 0"));
    Map<String, UUID> idsAfter = taskInstanceIds(dagId, run.runId());
    assertThat(idsAfter.get("extract")).isEqualTo(idsBefore.get("extract"));
    assertThat(idsAfter.get("transform")).isNotEqualTo(idsBefore.get("transform"));
    assertThat(count("SELECT count(*) FROM task_instance_history WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'transform' AND try_number = 1 AND state = 'failed'", dagId, run.runId())).isEqualTo(1);

    ResumedDagRun resumed = activities.resumeDagRun(dagId, run.runId(), List.of());
    ResumedDagRun again = activities.resumeDagRun(dagId, run.runId(), List.of());

    assertThat(resumed.resumed()).isTrue();
    assertThat(resumed.state()).isEqualTo("running");
    assertThat(resumed.run()).isEqualTo(new OwnedRun(dagId, run.runId(), run.dagVersionId(), run.dagRelPath(),
        run.bundleName(), run.bundleVersion(), null, 1, Duration.ofSeconds(42), resumed.run().startDate()));
    assertThat(resumed.plan().unpack().tasks()).hasSize(4);
    assertThat(resumed.taskInstances()).extracting(t -> t.ref().taskId(), TaskInstanceSnapshot::state,
        TaskInstanceSnapshot::tryNumber).containsExactly(
            tuple("extract", TaskState.SUCCESS, 1), tuple("load", TaskState.NONE, 0),
            tuple("transform", TaskState.NONE, 1), tuple("validate", TaskState.NONE, 0));
    assertThat(runRow(dagId, run.runId())).isEqualTo("running clear_number=1 start_date=set end_date=null");
    assertThat(again.resumed()).as("a retry of the step after its commit finds the run running").isFalse();
    assertThat(again.run()).as("and drives it on: no other workflow can run under the run's id")
        .isEqualTo(resumed.run());
    assertThat(again.taskInstances()).isEqualTo(resumed.taskInstances());
    assertThat(runRow(dagId, run.runId())).isEqualTo("running clear_number=1 start_date=set end_date=null");

    QueueResult secondTry = activities.queueAttempts(resumed.run(), List.of(new AttemptToQueue("transform", -1, 2)))
        .get(0);
    assertThat(secondTry.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    assertThat(secondTry.taskInstanceId()).isEqualTo(idsAfter.get("transform"));
    assertThat(states(dagId, run.runId())).containsEntry("transform", "queued 2");
  }

  @Test
  void writesDecidedBeforeAClearOfTheRunningRunAreRefusedAndTheRunIsNotClosed() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun before = activities.createDagRun(request(dagId)).run();
    runTry(before, "extract", 1, "failed");

    airflowClear(dagId, before.runId(), "extract");  // the run is running: Airflow leaves it so

    assertThat(runRow(dagId, before.runId())).isEqualTo("running clear_number=1 start_date=set end_date=null");
    assertThat(states(dagId, before.runId())).containsEntry("extract", "null 1");
    assertCleared(() -> activities.markTasks(before, List.of(mark("transform", TaskState.UPSTREAM_FAILED))));
    assertCleared(() -> activities.queueAttempts(before, List.of(new AttemptToQueue("extract", -1, 2))));
    assertCleared(() -> activities.finishDagRun(before, "failed"));
    assertThat(states(dagId, before.runId())).as("nothing written").containsEntry("extract", "null 1")
        .containsEntry("transform", "null 0");
    assertThat(runRow(dagId, before.runId())).isEqualTo("running clear_number=1 start_date=set end_date=null");

    ResumedDagRun readBack = activities.resumeDagRun(dagId, before.runId(), List.of());
    assertThat(readBack.resumed()).as("it was running, not queued").isFalse();
    assertThat(readBack.run().clearNumber()).isEqualTo(1);
    assertThat(readBack.taskInstances()).extracting(t -> t.ref().taskId(), TaskInstanceSnapshot::state)
        .contains(tuple("extract", TaskState.NONE));
    activities.queueAttempts(readBack.run(), List.of(new AttemptToQueue("extract", -1, 2)));
    assertThat(states(dagId, before.runId())).containsEntry("extract", "queued 2");
  }

  @Test
  void aTryClearedWhileItRunsGoesBackToNoneAndGetsItsRetriesAgainAsAirflowsSchedulerGivesThem() throws Exception {
    String dagId = insertDag(dag -> task(dag, "extract").put("retries", 1), false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult first = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    runnerStarted(run, "extract");

    airflowClear(dagId, run.runId(), "extract");
    assertThat(states(dagId, run.runId())).containsEntry("extract", "restarting 1");

    // Its runner was told to stop (the try's id is gone) and has ended.
    SettledAttempt settled = activities.settleAttempt(run, "extract", -1, 1, first.queuedAt(), 1);
    assertThat(settled.state()).isEqualTo(TaskState.NONE);
    assertThat(settled.tryNumber()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = 'extract' "
        + "AND state IS NULL AND max_tries = 2", dagId, run.runId())).as("max_tries = try 1 + 1 retry").isEqualTo(1);

    OwnedRun current = activities.resumeDagRun(dagId, run.runId(), List.of()).run();
    QueueResult second = activities.queueAttempts(current, List.of(new AttemptToQueue("extract", -1, 2))).get(0);
    assertThat(second.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    // Try 2 dies without a word: within max_tries, so it is retried, as Airflow would.
    assertThat(activities.settleAttempt(current, "extract", -1, 2, second.queuedAt(), 1).state())
        .isEqualTo(TaskState.UP_FOR_RETRY);
  }

  // ---- tries that wait without a runner ----

  @Test
  void aSensorThatRescheduledIsSettledWithItsRescheduleDateAndQueuedAgainAtTheSameTry() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult poke = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    runnerStarted(run, "extract");
    // What the Execution API writes for the runner's up_for_reschedule: the state and a task_reschedule row.
    airflowDb.update("UPDATE task_instance SET state = 'up_for_reschedule', end_date = now(), duration = 1 "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", dagId, run.runId());
    airflowDb.update("INSERT INTO task_reschedule (ti_id, start_date, end_date, duration, reschedule_date) "
        + "VALUES (?::uuid, now(), now(), 1, '2030-01-01T00:00:05Z')", poke.taskInstanceId().toString());

    SettledAttempt settled = activities.settleAttempt(run, "extract", -1, 1, poke.queuedAt(), 0);

    assertThat(settled.state()).isEqualTo(TaskState.UP_FOR_RESCHEDULE);
    assertThat(settled.tryNumber()).isEqualTo(1);
    assertThat(settled.rescheduleDate()).isEqualTo(Instant.parse("2030-01-01T00:00:05Z"));
    assertThat(states(dagId, run.runId())).as("not failed").containsEntry("extract", "up_for_reschedule 1");
    QueueResult next = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    assertThat(next.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    assertThat(next.taskInstanceId()).isEqualTo(poke.taskInstanceId());
    assertThat(states(dagId, run.runId())).containsEntry("extract", "queued 1");
  }

  @Test
  void aDeferredTryIsSettledDeferredReadBackUntilAirflowResumesItAndThenQueuedAtTheSameTry() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    QueueResult first = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    runnerStarted(run, "extract");
    airflowDb.update("UPDATE task_instance SET state = 'deferred', next_method = 'execute_complete', "
        + "next_kwargs = '{}' WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", dagId, run.runId());

    assertThat(activities.settleAttempt(run, "extract", -1, 1, first.queuedAt(), 0).state())
        .isEqualTo(TaskState.DEFERRED);
    assertThat(activities.readTaskInstances(run, List.of(TaskInstanceRef.of("extract"))))
        .extracting(TaskInstanceSnapshot::state, TaskInstanceSnapshot::tryNumber)
        .containsExactly(tuple(TaskState.DEFERRED, 1));
    assertThat(activities.resumeDagRun(dagId, run.runId(), List.of()).taskInstances())
        .as("a read-back leaves it deferred").extracting(t -> t.ref().taskId(), TaskInstanceSnapshot::state)
        .contains(tuple("extract", TaskState.DEFERRED));

    assertThat(airflowDb.airflowPython(AIRFLOW_TRIGGER_EVENT, dagId, run.runId(), "extract"))
        .contains("resumed scheduled 1");

    assertThat(activities.readTaskInstances(run, List.of(TaskInstanceRef.of("extract"))))
        .extracting(TaskInstanceSnapshot::state, TaskInstanceSnapshot::tryNumber)
        .containsExactly(tuple(TaskState.SCHEDULED, 1));
    QueueResult resumed = activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1))).get(0);
    assertThat(resumed.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    assertThat(resumed.taskInstanceId()).isEqualTo(first.taskInstanceId());
    assertThat(states(dagId, run.runId())).containsEntry("extract", "queued 1");
  }

  @Test
  void theSweepTellsTheWorkflowOfARunningRunOnceThatAirflowResumedOneOfItsTries() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OwnedRun run = activities.createDagRun(request(dagId)).run();
    activities.queueAttempts(run, List.of(new AttemptToQueue("extract", -1, 1)));
    airflowDb.update("UPDATE task_instance SET state = 'deferred', next_method = 'execute_complete', "
        + "next_kwargs = '{}' WHERE dag_id = ? AND run_id = ? AND task_id = 'extract'", dagId, run.runId());
    RecordingOwnedDagRun.SIGNALS.clear();

    try (TestWorkflowEnvironment env = WireTestEnvironment.withoutTimeSkipping()) {
      env.newWorker("airflow").registerWorkflowImplementationTypes(RecordingOwnedDagRun.class);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String workflowId = WorkflowIds.forDagRun(dagId, run.runId());
      WorkflowClient.start(client.newWorkflowStub(OwnedDagRunWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(workflowId).setTaskQueue("airflow").build())::run, request(dagId), null);
      ClearedRunsSweepActivitiesImpl sweep = new ClearedRunsSweepActivitiesImpl(new DagRuns(db),
          new WaitingTaskInstances(db), client, "airflow");
      ClearedRunsSweepSettings settings = new ClearedRunsSweepSettings(Duration.ofSeconds(10));

      int whileDeferred = sweep.sweep(settings).waitsResumed();
      assertThat(airflowDb.airflowPython(AIRFLOW_TRIGGER_EVENT, dagId, run.runId(), "extract"))
          .contains("resumed scheduled 1");
      int resumed = sweep.sweep(settings).waitsResumed();
      int again = sweep.sweep(settings).waitsResumed();

      assertThat(List.of(whileDeferred, resumed, again)).containsExactly(0, 1, 0);
      awaitCondition(() -> RecordingOwnedDagRun.SIGNALS.contains(workflowId + " resumed"));
      client.newWorkflowStub(OwnedDagRunWorkflow.class, workflowId).dagRunCleared(-1);
      client.newUntypedWorkflowStub(workflowId).getResult(String.class);
      assertThat(RecordingOwnedDagRun.SIGNALS).containsExactly(workflowId + " resumed", workflowId + " -1");
    }
  }

  @Test
  void theSweepFindsClearedExternalRunsQueuedOfUnpausedDagsAndRunningOnesClearedRecently() throws Exception {
    String unpaused = insertDag(dag -> { }, false);
    String paused = insertDag(dag -> { }, false);
    OwnedRun finished = activities.createDagRun(request(unpaused)).run();
    runTry(finished, "extract", 1, "failed");
    activities.finishDagRun(finished, "failed");
    airflowClear(unpaused, finished.runId(), "extract");
    OwnedRun runningCleared = activities.createDagRun(request(unpaused)).run();
    airflowClear(unpaused, runningCleared.runId(), "extract");
    OwnedRun runningNeverCleared = activities.createDagRun(request(unpaused)).run();
    OwnedRun ofPausedDag = activities.createDagRun(request(paused)).run();
    activities.finishDagRun(ofPausedDag, "failed");
    airflowClear(paused, ofPausedDag.runId(), "extract");
    setPaused(paused, true);

    List<String> found = new DagRuns(db).clearedExternalRuns(Duration.ofMinutes(1)).stream()
        .filter(r -> dagIds.contains(r.dagId()))
        .map(r -> r.runId() + " " + r.state() + " " + r.clearNumber()).toList();

    assertThat(found).containsExactlyInAnyOrder(finished.runId() + " queued 1", runningCleared.runId() + " running 1");
    assertThat(found).doesNotContain(runningNeverCleared.runId() + " running 0");
  }

  /** Stands in for the owned workflow under the sweep: records how it was started and signalled. */
  public static class RecordingOwnedDagRun implements OwnedDagRunWorkflow {
    static final List<String> STARTS = new CopyOnWriteArrayList<>();
    static final List<OwnedDagRunRequest> REQUESTS = new CopyOnWriteArrayList<>();
    static final List<String> SIGNALS = new CopyOnWriteArrayList<>();
    private boolean stop;

    @Override
    public String run(OwnedDagRunRequest request, OwnedDagRunCarry carried) {
      if (!Workflow.isReplaying()) {
        STARTS.add(Workflow.getInfo().getWorkflowId() + (carried != null && carried.resumeCleared() ? " resume" : ""));
        REQUESTS.add(request);
      }
      Workflow.await(() -> stop);
      return "stopped";
    }

    @Override
    public OwnedDagRunProgress progress() {
      return null;
    }

    @Override
    public RunView view() {
      return null;
    }

    @Override
    public void dagRunCleared(int clearNumber) {
      if (!Workflow.isReplaying()) {
        SIGNALS.add(Workflow.getInfo().getWorkflowId() + " " + clearNumber);
      }
      stop |= clearNumber < 0;  // the test's way to end it
    }

    @Override
    public void taskInstancesResumed() {
      if (!Workflow.isReplaying()) {
        SIGNALS.add(Workflow.getInfo().getWorkflowId() + " resumed");
      }
    }
  }

  @Test
  void theSweepStartsOneResumingWorkflowPerClearedQueuedRunAndTellsARunningRunsWorkflowOnce() throws Exception {
    String dagId = insertDag(dag -> { }, false);
    OffsetDateTime logicalDate = OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)
        .plusMinutes(RANDOM.nextInt(5_000_000));
    OwnedRun finished = activities.createDagRun(withConf(withLogicalDate(request(dagId), logicalDate),
        JSON.valueToTree(Map.of("rows", 4)))).run();
    runTry(finished, "extract", 1, "failed");
    activities.finishDagRun(finished, "failed");
    airflowClear(dagId, finished.runId(), "extract");
    OwnedRun running = activities.createDagRun(request(dagId)).run();
    airflowClear(dagId, running.runId(), "extract");
    RecordingOwnedDagRun.STARTS.clear();
    RecordingOwnedDagRun.REQUESTS.clear();
    RecordingOwnedDagRun.SIGNALS.clear();

    try (TestWorkflowEnvironment env = WireTestEnvironment.withoutTimeSkipping()) {
      env.newWorker("airflow").registerWorkflowImplementationTypes(RecordingOwnedDagRun.class);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String finishedId = WorkflowIds.forDagRun(dagId, finished.runId());
      String runningId = WorkflowIds.forDagRun(dagId, running.runId());
      // The runs' own workflows: the finished one's completed, the running one's still drives its run.
      for (String id : List.of(finishedId, runningId)) {
        WorkflowClient.start(client.newWorkflowStub(OwnedDagRunWorkflow.class, WorkflowOptions.newBuilder()
            .setWorkflowId(id).setTaskQueue("airflow").build())::run, request(dagId), null);
      }
      client.newWorkflowStub(OwnedDagRunWorkflow.class, finishedId).dagRunCleared(-1);
      client.newUntypedWorkflowStub(finishedId).getResult(String.class);
      awaitCondition(() -> RecordingOwnedDagRun.STARTS.size() == 2);
      ClearedRunsSweepActivitiesImpl sweep = new ClearedRunsSweepActivitiesImpl(new DagRuns(db), new WaitingTaskInstances(db), client,
          "airflow");
      ClearedRunsSweepSettings settings = new ClearedRunsSweepSettings(Duration.ofSeconds(10));

      ClearedRunsSweepSummary first = sweep.sweep(settings);
      ClearedRunsSweepSummary last = sweep.sweep(settings);

      assertThat(first).as("the queued run is resumed, the running run's workflow told")
          .isEqualTo(new ClearedRunsSweepSummary(1, 1, 0, 1, 0, 0));
      assertThat(last).as("the resuming workflow runs: Temporal refuses another; the clear was told already")
          .isEqualTo(new ClearedRunsSweepSummary(1, 0, 1, 0, 0, 0));
      awaitCondition(() -> RecordingOwnedDagRun.STARTS.size() == 3 && RecordingOwnedDagRun.SIGNALS.size() >= 2);
      assertThat(RecordingOwnedDagRun.STARTS.get(2)).isEqualTo(finishedId + " resume");
      OwnedDagRunRequest resumedWith = RecordingOwnedDagRun.REQUESTS.get(2);
      assertThat(resumedWith.runId()).isEqualTo(finished.runId());
      assertThat(resumedWith.conf()).isEqualTo(JSON.valueToTree(Map.of("rows", 4)));
      assertThat(resumedWith.logicalDate().toInstant()).isEqualTo(logicalDate.toInstant());
      assertThat(resumedWith.triggeredBy()).isEqualTo("cli");
      assertThat(resumedWith.triggeringUserName()).isEqualTo("validation-test");
      assertThat(RecordingOwnedDagRun.SIGNALS).containsExactly(finishedId + " -1", runningId + " 1");
    }
  }

  // ---- helpers ----

  private static ApplicationFailure assertRejectedWithNothingCreated(OwnedDagRunRequest request, String... parts) {
    Throwable thrown = catchThrowable(() -> activities.createDagRun(request));
    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    ApplicationFailure failure = (ApplicationFailure) thrown;
    assertThat(failure.getType()).isEqualTo(DagRunSyncActivities.REJECTED);
    assertThat(failure.isNonRetryable()).isTrue();
    assertThat(failure.getOriginalMessage()).contains(parts);
    assertThat(count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ?", request.dagId(), request.runId()))
        .as("no dag_run row").isZero();
    assertThat(count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ?", request.dagId(),
        request.runId())).as("no task_instance rows").isZero();
    return failure;
  }

  private static OwnedDagRunRequest request(String dagId) {
    return new OwnedDagRunRequest(ContractVersion.CURRENT, dagId, "external__validation_" + UUID.randomUUID(), null,
        null, OffsetDateTime.of(2026, 1, 1, 10, 0, 0, 0, ZoneOffset.UTC), "cli", "validation-test");
  }

  private static OwnedDagRunRequest withConf(OwnedDagRunRequest r, JsonNode conf) {
    return new OwnedDagRunRequest(r.contractVersion(), r.dagId(), r.runId(), conf, r.logicalDate(), r.runAfter(),
        r.triggeredBy(), r.triggeringUserName());
  }

  private static OwnedDagRunRequest withLogicalDate(OwnedDagRunRequest r, OffsetDateTime logicalDate) {
    return new OwnedDagRunRequest(r.contractVersion(), r.dagId(), r.runId(), r.conf(), logicalDate, logicalDate,
        r.triggeredBy(), r.triggeringUserName());
  }

  /** The template's task {@code __var} object with this id. */
  private static ObjectNode task(ObjectNode dag, String taskId) {
    for (JsonNode wrapped : dag.path("tasks")) {
      if (taskId.equals(wrapped.path("__var").path("task_id").asText())) {
        return (ObjectNode) wrapped.get("__var");
      }
    }
    throw new IllegalArgumentException("the template has no task " + taskId);
  }

  private String insertDag(Consumer<ObjectNode> mutateDag, boolean paused) throws SQLException {
    return insertDag(mutateDag, paused, root -> { });
  }

  /**
   * Inserts a test-only DAG as the dag-processor would have left it: a {@code dag} row (the columns
   * Airflow 3.3.2's DagModel has NOT NULL without a server default), one {@code dag_version} and its
   * {@code serialized_dag}, whose JSON is the template's with the dag id replaced, then mutated.
   */
  private String insertDag(Consumer<ObjectNode> mutateDag, boolean paused, Consumer<ObjectNode> mutateRoot)
      throws SQLException {
    String dagId = "validation_test_" + UUID.randomUUID().toString().replace("-", "");
    dagIds.add(dagId);
    ObjectNode root = template.deepCopy();
    ObjectNode dag = (ObjectNode) root.get("dag");
    dag.put("dag_id", dagId);
    dag.put("relative_fileloc", dagId + ".py");
    mutateDag.accept(dag);
    mutateRoot.accept(root);
    UUID versionId = UUID.randomUUID();
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      try (PreparedStatement insert = c.prepareStatement("""
          INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, relative_fileloc, fileloc, owners,
            timetable_type, timetable_summary, max_active_tasks, max_active_runs, max_consecutive_failed_dag_runs,
            has_task_concurrency_limits, has_import_errors, partition_mapper_info, last_parsed_time)
          VALUES (?, ?, false, 'dags-folder', ?, ?, 'airflow', 'airflow.timetables.simple.NullTimetable', 'None',
            16, 16, 0, false, false, '[]', now())""")) {
        insert.setString(1, dagId);
        insert.setBoolean(2, paused);
        insert.setString(3, dagId + ".py");
        insert.setString(4, "/nonexistent/" + dagId + ".py");
        insert.executeUpdate();
      }
      try (PreparedStatement insert = c.prepareStatement("""
          INSERT INTO dag_version (id, version_number, dag_id, bundle_name, bundle_version, created_at, last_updated)
          VALUES (?, 1, ?, 'dags-folder', NULL, now(), now())""")) {
        insert.setObject(1, versionId);
        insert.setString(2, dagId);
        insert.executeUpdate();
      }
      try (PreparedStatement insert = c.prepareStatement("""
          INSERT INTO serialized_dag (id, dag_id, data, data_compressed, created_at, last_updated, dag_hash,
            dag_version_id)
          VALUES (?, ?, cast(? as json), NULL, now(), now(), ?, ?)""")) {
        insert.setObject(1, UUID.randomUUID());
        insert.setString(2, dagId);
        insert.setString(3, root.toString());
        insert.setString(4, Integer.toHexString(root.toString().hashCode()));
        insert.setObject(5, versionId);
        insert.executeUpdate();
      }
      c.commit();
    }
    return dagId;
  }

  /** A pool of its own, so that no other test's tasks take its slots. */
  private String insertPool(int slots) throws SQLException {
    String pool = "validation_pool_" + UUID.randomUUID();
    poolNames.add(pool);
    try (Connection c = connect(); PreparedStatement insert = c.prepareStatement(
        "INSERT INTO slot_pool (pool, slots, description, include_deferred) VALUES (?, ?, 'test', false)")) {
      insert.setString(1, pool);
      insert.setInt(2, slots);
      insert.executeUpdate();
    }
    return pool;
  }

  private static UUID dagVersionId(String dagId) throws SQLException {
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement(
        "SELECT id FROM dag_version WHERE dag_id = ?")) {
      q.setString(1, dagId);
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getObject(1, UUID.class);
      }
    }
  }

  private static Map<String, UUID> taskInstanceIds(String dagId, String runId) throws SQLException {
    Map<String, UUID> ids = new LinkedHashMap<>();
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement(
        "SELECT task_id, id FROM task_instance WHERE dag_id = ? AND run_id = ? ORDER BY task_id")) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          ids.put(rs.getString(1), rs.getObject(2, UUID.class));
        }
      }
    }
    return ids;
  }

  /** "state try_number" by task id; state "null" for Airflow's None. */
  private static Map<String, String> states(String dagId, String runId) throws SQLException {
    Map<String, String> states = new LinkedHashMap<>();
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement(
        "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?")) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          states.put(rs.getString(1), rs.getString(2) + " " + rs.getInt(3));
        }
      }
    }
    return states;
  }

  private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 600 && !condition.getAsBoolean(); i++) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean()).as("within 30 s").isTrue();
  }

  /** Airflow's own clear (what the UI's Clear and both REST clear endpoints call), on this run's tasks. */
  private static final String AIRFLOW_CLEAR = """
      import sys
      from sqlalchemy import select
      from airflow.models.taskinstance import TaskInstance, clear_task_instances
      from airflow.utils.session import create_session
      dag_id, run_id, *task_ids = sys.argv[1:]
      with create_session() as session:
          tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id,
              TaskInstance.run_id == run_id, TaskInstance.task_id.in_(task_ids))).all()
          assert len(tis) == len(task_ids), tis
          clear_task_instances(tis, session)
      print("cleared", len(tis))
      """;

  private static void airflowClear(String dagId, String runId, String... taskIds) throws Exception {
    List<String> args = new ArrayList<>(List.of(dagId, runId));
    args.addAll(List.of(taskIds));
    assertThat(airflowDb.airflowPython(AIRFLOW_CLEAR, args.toArray(String[]::new)))
        .contains("cleared " + taskIds.length);
  }

  /** Airflow's triggerer on the trigger's event: {@code Trigger.submit_event} → {@code handle_event_submit}. */
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

  /** One try through the activities, its runner writing {@code state} as the Execution API would. */
  private static void runTry(OwnedRun run, String taskId, int tryNumber, String state) throws SQLException {
    QueueResult queued = activities.queueAttempts(run, List.of(new AttemptToQueue(taskId, -1, tryNumber))).get(0);
    assertThat(queued.outcome()).isEqualTo(QueueResult.Outcome.QUEUED);
    airflowDb.update("UPDATE task_instance SET state = ?, start_date = now(), end_date = now(), duration = 0 "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = ?", state, run.dagId(), run.runId(), taskId);
    activities.settleAttempt(run, taskId, -1, tryNumber, queued.queuedAt(), 0);
  }

  /** The runner's PATCH /run: the try is running. */
  private static void runnerStarted(OwnedRun run, String taskId) throws SQLException {
    airflowDb.update("UPDATE task_instance SET state = 'running', start_date = now(), hostname = 'worker-1' "
        + "WHERE dag_id = ? AND run_id = ? AND task_id = ?", run.dagId(), run.runId(), taskId);
  }

  private static void assertCleared(Runnable write) {
    Throwable thrown = catchThrowable(write::run);
    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    assertThat(((ApplicationFailure) thrown).getType()).isEqualTo(DagRunSyncActivities.CLEARED);
    assertThat(((ApplicationFailure) thrown).isNonRetryable()).isTrue();
  }

  private static void setPaused(String dagId, boolean paused) throws SQLException {
    airflowDb.update("UPDATE dag SET is_paused = ?::boolean WHERE dag_id = ?", String.valueOf(paused), dagId);
  }

  /** "state clear_number=N start_date=set|null end_date=set|null" of the run. */
  private static String runRow(String dagId, String runId) throws SQLException {
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement(
        "SELECT state, clear_number, start_date, end_date FROM dag_run WHERE dag_id = ? AND run_id = ?")) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1) + " clear_number=" + rs.getInt(2)
            + " start_date=" + (rs.getObject(3) == null ? "null" : "set")
            + " end_date=" + (rs.getObject(4) == null ? "null" : "set");
      }
    }
  }

  private static int count(String sql, String dagId, String runId) {
    return airflowDb.count(sql, dagId, runId);
  }

  private static Connection connect() throws SQLException {
    return airflowDb.connect();
  }

  private static void update(String sql, String dagId) throws SQLException {
    try (Connection c = connect(); PreparedStatement update = c.prepareStatement(sql)) {
      update.setString(1, dagId);
      update.executeUpdate();
    }
  }

  private static TaskInstanceMark mark(String taskId, TaskState state) {
    return new TaskInstanceMark(TaskInstanceRef.of(taskId), state);
  }

  /** Makes the task {@code .expand(x=<upstream's return value>)}, as Airflow 3.3 serializes it. */
  private static void mapOver(ObjectNode task, String upstream) {
    mapOver(task, xcom(upstream));
  }

  private static void mapOver(ObjectNode task, Map<String, Object> xcomArg) {
    task.put("_is_mapped", true);
    task.set("expand_input", JSON.valueToTree(Map.of("type", "dict-of-lists", "value", Map.of("__type", "dict",
        "__var", Map.of("x", Map.of("__type", "xcomref", "__var", xcomArg))))));
  }

  private static Map<String, Object> xcom(String taskId) {
    return Map.of("task_id", taskId, "key", "return_value");
  }
}
