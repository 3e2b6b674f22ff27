package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Ending a Temporal-owned run requests its DAG's success/failure callback from the dag-processor as
 * Airflow's scheduler does, once: checked against PostgreSQL migrated by the real {@code airflow db
 * migrate}, with examples/dags serialized by the real {@code airflow dags reserialize}, and read back by
 * Airflow's own dag-processor code, which must find exactly the request Airflow's own
 * {@code DagRun.produce_dag_callback} builds for the same rows.
 */
class DagCallbackRequestsTest {
  /** A DAG with on_success_callback and on_failure_callback: `work` → `report`. */
  private static final String DAG_ID = "e2e_owned_callbacks";
  private static final String DAG_WITHOUT_CALLBACKS = "example_temporal_chain";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant END = Instant.parse("2026-01-01T10:05:00Z");

  /**
   * Claims the callback requests of the dags-folder bundle with the dag-processor's own
   * {@code DagFileProcessorManager._fetch_callbacks_from_db} (which deletes what it claims), and builds
   * what Airflow's {@code produce_dag_callback} would request for the run, with the given task instance.
   */
  private static final String READ_BACK = """
      import json, sys, types
      from sqlalchemy import select
      from airflow.dag_processing.manager import DagFileProcessorManager
      from airflow.models.dagrun import DagRun
      from airflow.utils.session import create_session

      dag_id, run_id, task_id = sys.argv[1], sys.argv[2], sys.argv[3]
      manager = DagFileProcessorManager(max_runs=1)
      manager._dag_bundles = [types.SimpleNamespace(name="dags-folder")]
      claimed = [r for r in manager._fetch_callbacks_from_db() if getattr(r, "run_id", None) == run_id]
      result = {"claimed": [json.loads(r.to_json()) for r in claimed]}
      if claimed:
          request = claimed[0]
          with create_session() as session:
              run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
              relevant = next((ti for ti in run.get_task_instances(session=session) if ti.task_id == task_id), None)
              expected = run.produce_dag_callback(dag=None, success=not request.is_failure_callback,
                                                  relevant_ti=relevant, reason=request.msg)
              result["type"] = type(request).__name__
              result["same_json_as_airflow"] = request.to_json() == expected.to_json()
              result["airflow"] = json.loads(expected.to_json())
      print("RESULT " + json.dumps(result))
      """;

  @RegisterExtension
  static final OpenAirflowDb airflow = new OpenAirflowDb();
  private static MigratedAirflowDb airflowDb;
  private static SerializedDags serializedDags;
  private static DagRuns dagRuns;
  private static TaskInstanceCreation creation;
  private static DagRunTimeouts timeouts;

  private final List<String[]> createdRuns = new ArrayList<>();

  @BeforeAll
  static void useDatabase() {
    airflowDb = airflow.airflowDb();
    AirflowDatabase db = airflow.db();
    serializedDags = new SerializedDags(db);
    dagRuns = new DagRuns(db);
    creation = new TaskInstanceCreation(db);
    timeouts = new DagRunTimeouts(db);
  }

  @AfterEach
  void deleteCreatedRunsAndTheirRequests() throws Exception {
    for (String[] run : createdRuns) {
      airflowDb.update("DELETE FROM callback WHERE type = 'dag_processor' AND data->'__var'->>'req_data' LIKE ?",
          "%" + run[1] + "%");
      airflowDb.update("DELETE FROM dag_run WHERE dag_id = ? AND run_id = ?", run[0], run[1]);
    }
  }

  @Test
  void aSucceededRunRequestsItsSuccessCallbackOnceWithTheLastSucceededTaskAsAirflowWould() throws Exception {
    String runId = startedRun(DAG_ID);
    settle(runId, "work", "success", END.minusSeconds(20));
    settle(runId, "report", "success", END.minusSeconds(10));

    assertThat(dagRuns.finish(DAG_ID, runId, "success", END, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(dagRuns.finish(DAG_ID, runId, "success", END, 0)).as("a repeat of the finish")
        .isEqualTo(DagRuns.FinishOutcome.ENDED_ELSEWHERE);

    assertThat(requests(runId)).isEqualTo(1);
    JsonNode claimed = readBackAsTheDagProcessor(runId, "report");
    assertThat(claimed.path("claimed")).hasSize(1);
    JsonNode request = claimed.path("claimed").get(0);
    assertThat(request.path("type").asText()).isEqualTo("DagCallbackRequest");
    assertThat(request.path("msg").asText()).isEqualTo("success");
    assertThat(request.path("is_failure_callback").asBoolean()).isFalse();
    assertThat(request.path("filepath").asText()).isEqualTo("e2e_owned_callbacks.py");
    assertThat(request.path("bundle_name").asText()).isEqualTo("dags-folder");
    assertThat(request.at("/context_from_server/last_ti/task_id").asText()).isEqualTo("report");
    assertThat(request.at("/context_from_server/dag_run/state").asText()).isEqualTo("success");
    assertThat(request.at("/context_from_server/dag_run/run_type").asText()).isEqualTo("external");
    assertThat(request.at("/context_from_server/dag_run/end_date").asText()).isEqualTo("2026-01-01T10:05:00Z");
    assertThat(claimed.path("same_json_as_airflow").asBoolean())
        .as("ours %s%nAirflow's %s", request, claimed.path("airflow")).isTrue();
    assertThat(requests(runId)).as("claimed by the dag-processor").isZero();
  }

  @Test
  void aRunFailedByATaskRequestsItsFailureCallbackWithTheFailedTaskAsAirflowWould() throws Exception {
    String runId = startedRun(DAG_ID);
    settle(runId, "work", "failed", END.minusSeconds(20));
    settle(runId, "report", "upstream_failed", END.minusSeconds(10));

    assertThat(dagRuns.finish(DAG_ID, runId, "failed", END, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(dagRuns.finish(DAG_ID, runId, "failed", END, 0)).isEqualTo(DagRuns.FinishOutcome.ENDED_ELSEWHERE);

    assertThat(requests(runId)).isEqualTo(1);
    JsonNode claimed = readBackAsTheDagProcessor(runId, "work");
    JsonNode request = claimed.path("claimed").get(0);
    assertThat(request.path("msg").asText()).isEqualTo("task_failure");
    assertThat(request.path("is_failure_callback").asBoolean()).isTrue();
    assertThat(request.at("/context_from_server/last_ti/task_id").asText()).isEqualTo("work");
    assertThat(claimed.path("same_json_as_airflow").asBoolean())
        .as("ours %s%nAirflow's %s", request, claimed.path("airflow")).isTrue();
  }

  @Test
  void aDeadlockedRunRequestsItsFailureCallbackWithTheBlockedTaskAsAirflowWould() throws Exception {
    String runId = startedRun(DAG_ID);
    settle(runId, "work", "success", END.minusSeconds(20));

    assertThat(dagRuns.finish(DAG_ID, runId, "failed", END, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);

    JsonNode claimed = readBackAsTheDagProcessor(runId, "report");
    assertThat(claimed.path("claimed")).hasSize(1);
    JsonNode request = claimed.path("claimed").get(0);
    assertThat(request.path("msg").asText()).isEqualTo("all_tasks_deadlocked");
    assertThat(request.at("/context_from_server/last_ti/task_id").asText()).isEqualTo("report");
    assertThat(claimed.path("same_json_as_airflow").asBoolean())
        .as("ours %s%nAirflow's %s", request, claimed.path("airflow")).isTrue();
  }

  @Test
  void aTimedOutRunSkipsItsUnfinishedTasksFailsAndRequestsATimedOutCallbackAsTheScheduler() throws Exception {
    String runId = startedRun(DAG_ID);
    settle(runId, "work", "running", END.minusSeconds(20));

    assertThat(timeouts.timeOut(DAG_ID, runId, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(timeouts.timeOut(DAG_ID, runId, 0)).as("a repeat").isEqualTo(DagRuns.FinishOutcome.ENDED_ELSEWHERE);

    assertThat(airflowDb.count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'failed' "
        + "AND end_date IS NOT NULL", DAG_ID, runId)).isEqualTo(1);
    assertThat(airflowDb.count("SELECT count(*) FROM task_instance WHERE dag_id = ? AND run_id = ? AND state = 'skipped'",
        DAG_ID, runId)).as("the running task and the one not started").isEqualTo(2);
    JsonNode claimed = readBackAsTheDagProcessor(runId, "work");
    assertThat(claimed.path("claimed")).hasSize(1);
    JsonNode request = claimed.path("claimed").get(0);
    assertThat(request.path("msg").asText()).isEqualTo("timed_out");
    assertThat(request.path("is_failure_callback").asBoolean()).isTrue();
    assertThat(request.at("/context_from_server/last_ti/task_id").asText()).as("the last unfinished to start")
        .isEqualTo("work");
    assertThat(request.at("/context_from_server/dag_run/state").asText()).isEqualTo("failed");
    assertThat(claimed.path("same_json_as_airflow").asBoolean())
        .as("ours %s%nAirflow's %s", request, claimed.path("airflow")).isTrue();
  }

  @Test
  void aTimedOutRunRequestsTheCallbackEvenWithoutOneAsTheSchedulerDoes() {
    String runId = startedRun(DAG_WITHOUT_CALLBACKS);

    assertThat(timeouts.timeOut(DAG_WITHOUT_CALLBACKS, runId, 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);

    assertThat(requests(runId)).isEqualTo(1);
  }

  @Test
  void aRunClearedSinceItWasReadIsNotTimedOut() {
    String runId = startedRun(DAG_ID);

    assertThat(timeouts.timeOut(DAG_ID, runId, 3)).isEqualTo(DagRuns.FinishOutcome.CLEARED);

    assertThat(airflowDb.count("SELECT count(*) FROM dag_run WHERE dag_id = ? AND run_id = ? AND state = 'running'",
        DAG_ID, runId)).isEqualTo(1);
    assertThat(requests(runId)).isZero();
  }

  @Test
  void aRunWhoseDagHasNoCallbacksRequestsNone() {
    String runId = startedRun(DAG_WITHOUT_CALLBACKS);

    assertThat(dagRuns.finish(DAG_WITHOUT_CALLBACKS, runId, "failed", END, 0))
        .isEqualTo(DagRuns.FinishOutcome.FINISHED);

    assertThat(requests(runId)).isZero();
  }

  @Test
  void aRunNotEndedHereRequestsNone() {
    String cleared = startedRun(DAG_ID);
    settle(cleared, "work", "success", END);
    settle(cleared, "report", "success", END);

    assertThat(dagRuns.finish(DAG_ID, cleared, "success", END, 7)).as("finished on a clear number since moved on")
        .isEqualTo(DagRuns.FinishOutcome.CLEARED);

    assertThat(requests(cleared)).isZero();
  }

  private String startedRun(String dagId) {
    SerializedDag dag = serializedDags.latest(dagId);
    String runId = "external__callbacks_test_" + UUID.randomUUID();
    createdRuns.add(new String[] {dagId, runId});
    dagRuns.createExternal(new NewDagRun(dagId, runId, "external", "running", null, null, null,
        Instant.parse("2026-01-01T10:00:00Z"), null, "{\"rows\": 4}", TriggeredBy.CLI, null, dag.bundleVersion(),
        dag.dagVersionId()));
    if (!dagId.equals(DAG_ID)) {
      return runId;
    }
    creation.createAll(new DagRunKey(dagId, runId), dag.dagVersionId(), List.of(
        new NewTaskInstance("work", -1, "default_pool", 1, "default", 1, 0, "_PythonDecoratedOperator", "@task",
            null, null),
        new NewTaskInstance("report", -1, "default_pool", 1, "default", 1, 0, "_PythonDecoratedOperator", "@task",
            null, null)));
    return runId;
  }

  /** A task instance as its runner leaves it: this state, try 1, ended then, on some host. */
  private static void settle(String runId, String taskId, String state, Instant endDate) {
    try {
      airflowDb.update("UPDATE task_instance SET state = ?, try_number = 1, hostname = 'worker-1', "
          + "start_date = ?::timestamptz - interval '1 second', end_date = ?::timestamptz "
          + "WHERE dag_id = ? AND run_id = ? AND task_id = ?", state, endDate.toString(), endDate.toString(), DAG_ID,
          runId, taskId);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int requests(String runId) {
    return airflowDb.count("SELECT count(*) FROM callback WHERE type = 'dag_processor' "
        + "AND data->'__var'->>'req_class' = ? AND data->'__var'->>'req_data' LIKE ?", "DagCallbackRequest",
        "%\"run_id\":\"" + runId + "\"%");
  }

  private static JsonNode readBackAsTheDagProcessor(String runId, String relevantTaskId) throws Exception {
    String output = airflowDb.airflowPython(READ_BACK, DAG_ID, runId, relevantTaskId);
    String line = output.lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("no result from Airflow's Python:\n" + output));
    return JSON.readTree(line.substring("RESULT ".length()));
  }
}
