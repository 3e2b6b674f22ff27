package dev.airflowtemporal.dbsync;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.dag.TaskState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.hibernate.Session;

/**
 * The DAG-level {@code on_success_callback} / {@code on_failure_callback} request Airflow's scheduler
 * stores when a run ends, written for a Temporal-owned run in the transaction that ends it (so the run
 * ends with its request or not at all, and a retried finish, which finds the run ended, writes none).
 *
 * <p>What is written is what {@code DagRun.update_state} → {@code produce_dag_callback} →
 * {@code DatabaseCallbackSink.send} writes: a {@code callback} row of type {@code dag_processor}
 * (Airflow's {@code DbCallbackRequest(callback=DagCallbackRequest(...), priority_weight=1)}), which
 * the dag-processor serving the DAG's bundle claims, deletes and runs with Airflow's callback context;
 * its output goes to the dag-processor's log for the DAG's file. Only when the run's DAG version has
 * the callback ({@code has_on_success_callback} / {@code has_on_failure_callback}), as in
 * {@code update_state}. The request's {@code msg} and the task instance its context is built from
 * follow {@code update_state}'s branches:
 * <ul>
 *   <li>success: {@code "success"}, the successful task instance that ended last;</li>
 *   <li>failed with every task instance finished: {@code "task_failure"}, the failed one that ended last;</li>
 *   <li>failed with task instances that can never run: {@code "all_tasks_deadlocked"}, the first of them
 *       (by task id, map index) with a finished direct upstream.</li>
 * </ul>
 * A run failed for its dagrun_timeout is the exception ({@link #writeForTimedOutRun}).
 */
final class DagCallbackRequests {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Pydantic's JSON form of an aware UTC datetime: microseconds only when there are any, then {@code Z}. */
  private static final DateTimeFormatter WHOLE_SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'");
  private static final DateTimeFormatter MICROSECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'");
  /** {@code DatabaseCallbackSink.send}'s weight for every callback request. */
  private static final int PRIORITY_WEIGHT = 1;
  /** Airflow's {@code State.unfinished}: None and the states a task instance still moves on from. */
  static final String UNFINISHED = "(ti.state is null or ti.state in ("
      + TaskState.UNFINISHED.stream().filter(s -> s != TaskState.NONE).map(s -> "'" + s.airflowName() + "'")
          .collect(Collectors.joining(", ")) + "))";

  private DagCallbackRequests() {}

  /**
   * Inside the caller's transaction, right after it ended the run as {@code success} or {@code failed}:
   * inserts the run's DAG callback request if its DAG has a callback for that end.
   *
   * @return whether a request was written
   */
  static boolean writeForEndedRun(Session session, String dagId, String runId) {
    return session.doReturningWork(connection -> {
      ObjectNode dagRun = dagRunContext(connection, dagId, runId);
      String state = dagRun.get("state").asText();
      JsonNode dag = serializedDag(connection, dagId, dagRun);
      boolean success = state.equals("success");
      if (!dag.path(success ? "has_on_success_callback" : "has_on_failure_callback").asBoolean(false)) {
        return false;
      }
      String reason;
      JsonNode relevantTi;
      if (success) {
        reason = "success";
        relevantTi = lastEnded(connection, dagId, runId, TaskState.SUCCESS);
      } else if (hasUnfinished(connection, dagId, runId)) {
        reason = "all_tasks_deadlocked";
        relevantTi = blocking(connection, dagId, runId, dag);
      } else {
        reason = "task_failure";
        relevantTi = lastEnded(connection, dagId, runId, TaskState.FAILED);
      }
      insert(connection, dagId, runId, dagRun, relevantTi, reason, success);
      return true;
    });
  }

  /**
   * Inside the caller's transaction, right after it failed the run for its dagrun_timeout: the timed-out
   * branch of the scheduler's {@code _schedule_dag_run} sends the failure callback request whether or not
   * the DAG has a callback (the dag-processor then runs what the DAG has), with reason {@code "timed_out"}
   * and the task instance it picked before skipping the unfinished ones.
   *
   * @param relevantTiId that task instance; null for none
   */
  static void writeForTimedOutRun(Session session, String dagId, String runId, UUID relevantTiId) {
    session.doWork(connection -> {
      ObjectNode dagRun = dagRunContext(connection, dagId, runId);
      dagRun.remove("created_dag_version_id");
      JsonNode relevantTi = relevantTiId == null ? JSON.nullNode()
          : taskInstance(connection, "ti.id = '" + relevantTiId + "'", dagId, runId, null);
      insert(connection, dagId, runId, dagRun, relevantTi, "timed_out", false);
    });
  }

  private static void insert(Connection connection, String dagId, String runId, ObjectNode dagRun,
                             JsonNode relevantTi, String reason, boolean success) throws SQLException {
    String fileloc;
    String bundleName;
    try (PreparedStatement q = connection.prepareStatement(
        "select relative_fileloc, bundle_name from dag where dag_id = ?")) {
      q.setString(1, dagId);
      try (ResultSet rs = q.executeQuery()) {
        // There: the serialized DAG read before belongs to it (dag_version.dag_id references dag).
        rs.next();
        fileloc = rs.getString(1);
        bundleName = rs.getString(2);
      }
    }
    String bundleVersion = dagRun.remove("bundle_version").textValue();
    // DagCallbackRequest's fields in pydantic's order, as its to_json() writes them.
    ObjectNode request = JSON.createObjectNode();
    request.put("filepath", fileloc);
    request.put("bundle_name", bundleName);
    request.put("bundle_version", bundleVersion);
    request.put("msg", reason);
    request.put("dag_id", dagId);
    request.put("run_id", runId);
    ObjectNode context = request.putObject("context_from_server");
    context.set("dag_run", dagRun);
    context.set("last_ti", relevantTi);
    request.put("is_failure_callback", !success);
    request.put("type", "DagCallbackRequest");
    // ExtendedJSON's form of the dict {"req_class": ..., "req_data": <the request's JSON text>}.
    ObjectNode data = JSON.createObjectNode();
    ObjectNode fields = data.putObject("__var");
    fields.put("req_class", "DagCallbackRequest");
    fields.put("req_data", write(request));
    data.put("__type", "dict");
    try (PreparedStatement insert = connection.prepareStatement("""
        insert into callback (id, type, fetch_method, data, bundle_name, state, priority_weight, created_at)
        values (?, 'dag_processor', 'dag_attribute', cast(? as jsonb), ?, null, ?, now())""")) {
      insert.setObject(1, TaskInstanceCreation.UUID_V7.get());
      insert.setString(2, write(data));
      insert.setString(3, bundleName);
      insert.setInt(4, PRIORITY_WEIGHT);
      insert.executeUpdate();
    }
  }

  /**
   * The Execution API's {@code DagRun} model of the run as its fields are dumped (plus its
   * {@code bundle_version}, which the caller takes out): owned runs consume no asset events, and
   * {@code team_name} is not a column of the run.
   */
  private static ObjectNode dagRunContext(Connection connection, String dagId, String runId) throws SQLException {
    try (PreparedStatement q = connection.prepareStatement("""
        select r.logical_date, r.data_interval_start, r.data_interval_end, r.run_after, r.start_date, r.end_date,
               r.clear_number, r.run_type, r.state, r.conf::text, r.triggering_user_name, r.partition_key,
               r.partition_date, n.content, r.bundle_version, r.created_dag_version_id
        from dag_run r left join dag_run_note n on n.dag_run_id = r.id
        where r.dag_id = ? and r.run_id = ?""")) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("DagRun " + dagId + "/" + runId + " vanished in the transaction ending it");
        }
        ObjectNode run = JSON.createObjectNode();
        run.put("dag_id", dagId);
        run.put("run_id", runId);
        run.put("logical_date", timestamp(rs, 1));
        run.put("data_interval_start", timestamp(rs, 2));
        run.put("data_interval_end", timestamp(rs, 3));
        run.put("run_after", timestamp(rs, 4));
        run.put("start_date", timestamp(rs, 5));
        run.put("end_date", timestamp(rs, 6));
        run.put("clear_number", rs.getInt(7));
        run.put("run_type", rs.getString(8));
        run.put("state", rs.getString(9));
        run.set("conf", rs.getString(10) == null ? JSON.nullNode() : read(rs.getString(10)));
        run.put("triggering_user_name", rs.getString(11));
        run.putArray("consumed_asset_events");
        run.put("partition_key", rs.getString(12));
        run.put("partition_date", timestamp(rs, 13));
        run.put("note", rs.getString(14));
        run.putNull("team_name");
        run.put("bundle_version", rs.getString(15));
        UUID createdVersion = rs.getObject(16, UUID.class);
        run.put("created_dag_version_id", createdVersion == null ? null : createdVersion.toString());
        return run;
      }
    }
  }

  /**
   * The run's DAG as the scheduler resolves it ({@code DBDagBag._version_from_dag_run}): the version the
   * run was created from, or the latest for a run without a bundle version (an unversioned bundle such
   * as the dags folder).
   */
  private static JsonNode serializedDag(Connection connection, String dagId, ObjectNode dagRun) throws SQLException {
    String createdVersion = dagRun.remove("created_dag_version_id").textValue();
    boolean latest = dagRun.get("bundle_version").isNull() || createdVersion == null;
    try (PreparedStatement q = connection.prepareStatement(latest
        ? "select s.data::text, s.data_compressed from serialized_dag s join dag_version v on v.id = s.dag_version_id "
            + "where v.dag_id = ? order by v.version_number desc limit 1"
        : "select s.data::text, s.data_compressed from serialized_dag s where s.dag_id = ? and s.dag_version_id = ?")) {
      q.setString(1, dagId);
      if (!latest) {
        q.setObject(2, UUID.fromString(createdVersion));
      }
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          // No DAG, no callback to run: the run still ends.
          return JSON.missingNode();
        }
        byte[] json = SerializedDags.json(rs.getString(1), rs.getBytes(2));
        try {
          return JSON.readTree(json).path("dag");
        } catch (IOException e) {
          throw new UncheckedIOException("serialized_dag of " + dagId + " is not JSON", e);
        }
      }
    }
  }

  private static boolean hasUnfinished(Connection connection, String dagId, String runId) throws SQLException {
    try (PreparedStatement q = connection.prepareStatement(
        "select exists (select 1 from task_instance ti where ti.dag_id = ? and ti.run_id = ? and " + UNFINISHED + ")")) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** {@code max(tis in state, key=end_date)}: the last to end (the first such row when none has an end date). */
  private static JsonNode lastEnded(Connection connection, String dagId, String runId, TaskState state)
      throws SQLException {
    return taskInstance(connection, "ti.state = '" + state.airflowName() + "' order by ti.end_date desc nulls last, ti.task_id, "
        + "ti.map_index limit 1", dagId, runId, null);
  }

  /** The first unfinished task instance with a finished direct upstream, as {@code update_state} picks it. */
  private static JsonNode blocking(Connection connection, String dagId, String runId, JsonNode dag)
      throws SQLException {
    Set<String> finished = new HashSet<>();
    try (PreparedStatement q = connection.prepareStatement("select distinct ti.task_id from task_instance ti "
        + "where ti.dag_id = ? and ti.run_id = ? and not " + UNFINISHED)) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          finished.add(rs.getString(1));
        }
      }
    }
    Set<String> blocked = new HashSet<>();
    for (JsonNode task : dag.path("tasks")) {
      JsonNode fields = task.path("__var");
      for (JsonNode downstream : fields.path("downstream_task_ids")) {
        if (finished.contains(fields.path("task_id").asText())) {
          blocked.add(downstream.asText());
        }
      }
    }
    return taskInstance(connection, UNFINISHED + " order by ti.task_id, ti.map_index", dagId, runId,
        blocked);
  }

  /**
   * The Execution API's {@code TaskInstance} model of the first row matching {@code condition} (whose
   * task is in {@code taskIds}, when given), or JSON null. A row without a {@code dag_version_id}
   * (before DAG versioning) gives null too, as {@code produce_dag_callback} drops it.
   */
  private static JsonNode taskInstance(Connection connection, String condition, String dagId, String runId,
                                       Set<String> taskIds) throws SQLException {
    try (PreparedStatement q = connection.prepareStatement("""
        select ti.id, ti.task_id, ti.try_number, ti.dag_version_id, ti.map_index, ti.hostname,
               ti.context_carrier::text, ti.queue
        from task_instance ti where ti.dag_id = ? and ti.run_id = ? and\s""" + condition)) {
      q.setString(1, dagId);
      q.setString(2, runId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          if (taskIds != null && !taskIds.contains(rs.getString(2))) {
            continue;
          }
          UUID dagVersionId = rs.getObject(4, UUID.class);
          if (dagVersionId == null) {
            return JSON.nullNode();
          }
          ObjectNode ti = JSON.createObjectNode();
          ti.put("id", rs.getObject(1, UUID.class).toString());
          ti.put("task_id", rs.getString(2));
          ti.put("dag_id", dagId);
          ti.put("run_id", runId);
          ti.put("try_number", rs.getInt(3));
          ti.put("dag_version_id", dagVersionId.toString());
          ti.put("map_index", rs.getInt(5));
          ti.put("hostname", rs.getString(6));
          ti.set("context_carrier", rs.getString(7) == null ? JSON.nullNode() : read(rs.getString(7)));
          ti.put("queue", rs.getString(8));
          return ti;
        }
        return JSON.nullNode();
      }
    }
  }

  private static String timestamp(ResultSet rs, int column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    if (value == null) {
      return null;
    }
    OffsetDateTime utc = value.withOffsetSameInstant(ZoneOffset.UTC);
    return (utc.getNano() == 0 ? WHOLE_SECONDS : MICROSECONDS).format(utc);
  }

  private static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String write(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
