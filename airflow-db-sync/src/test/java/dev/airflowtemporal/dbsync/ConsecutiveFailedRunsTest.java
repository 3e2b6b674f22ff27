package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Temporal-owned run that ends failed pauses its DAG once the DAG's last
 * {@code max_consecutive_failed_dag_runs} runs have all failed, as Airflow's {@code DagRun.update_state}
 * does: checked against PostgreSQL migrated by the real {@code airflow db migrate}, with examples/dags
 * serialized by the real {@code airflow dags reserialize} (e2e_owned_dag_limits sets the limit to 2).
 */
class ConsecutiveFailedRunsTest {
  private static final String DAG_ID = "e2e_owned_dag_limits";
  private static final Instant FIRST_RUN_AFTER = Instant.parse("2026-03-01T10:00:00Z");

  @RegisterExtension
  static final OpenAirflowDb airflow = new OpenAirflowDb();
  private static MigratedAirflowDb airflowDb;
  private static SerializedDags serializedDags;
  private static DagRuns dagRuns;

  private final List<String> createdRuns = new ArrayList<>();

  @BeforeAll
  static void useDatabase() {
    airflowDb = airflow.airflowDb();
    serializedDags = new SerializedDags(airflow.db());
    dagRuns = new DagRuns(airflow.db());
  }

  @BeforeEach
  void unpause() throws Exception {
    // A DAG is paused when first serialized ([core] dags_are_paused_at_creation).
    airflowDb.update("UPDATE dag SET is_paused = false WHERE dag_id = ?", DAG_ID);
  }

  @AfterEach
  void deleteRunsAndUnpause() throws Exception {
    for (String runId : createdRuns) {
      airflowDb.update("DELETE FROM callback WHERE type = 'dag_processor' AND data->'__var'->>'req_data' LIKE ?",
          "%" + runId + "%");
      airflowDb.update("DELETE FROM dag_run WHERE dag_id = ? AND run_id = ?", DAG_ID, runId);
    }
    airflowDb.update("UPDATE dag SET is_paused = false WHERE dag_id = ?", DAG_ID);
    airflowDb.update("DELETE FROM log WHERE dag_id = ? AND event = 'paused'", DAG_ID);
  }

  @Test
  void theDagIsPausedWhenItsLastRunsUpToTheLimitAllFailed() {
    String first = startedRun(0);
    String second = startedRun(1);
    assertThat(dagRuns.finish(DAG_ID, first, "failed", Instant.now(), 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(paused()).as("one failed run of a limit of 2").isFalse();

    assertThat(dagRuns.finish(DAG_ID, second, "failed", Instant.now(), 0)).isEqualTo(DagRuns.FinishOutcome.FINISHED);
    assertThat(paused()).as("two failed runs in a row").isTrue();
    assertThat(airflowDb.count("SELECT count(*) FROM log WHERE dag_id = ? AND event = 'paused' AND owner = "
        + "'scheduler' AND owner_display_name = 'Scheduler' AND extra = ?", DAG_ID,
        "[('dag_id', '" + DAG_ID + "'), ('is_paused', True)]")).as("the scheduler's audit-log row").isEqualTo(1);
  }

  @Test
  void aSuccessfulRunAmongTheLastOnesKeepsTheDagRunning() {
    String oldest = startedRun(0);
    String middle = startedRun(1);
    String latest = startedRun(2);
    dagRuns.finish(DAG_ID, oldest, "failed", Instant.now(), 0);
    dagRuns.finish(DAG_ID, latest, "failed", Instant.now(), 0);
    assertThat(paused()).as("the latest two by run_after: one failed, one still running").isFalse();

    dagRuns.finish(DAG_ID, middle, "success", Instant.now(), 0);
    assertThat(paused()).as("the latest two by run_after: one failed, one succeeded").isFalse();
  }

  @Test
  void theLimitCountsByRunAfterNotByTheOrderRunsEnd() {
    String older = startedRun(0);
    String newer = startedRun(1);
    dagRuns.finish(DAG_ID, newer, "failed", Instant.now(), 0);
    assertThat(paused()).isFalse();
    dagRuns.finish(DAG_ID, older, "failed", Instant.now(), 0);
    assertThat(paused()).isTrue();
  }

  private String startedRun(int minutesAfterFirst) {
    SerializedDag dag = serializedDags.latest(DAG_ID);
    String runId = "external__consecutive_failures_" + UUID.randomUUID();
    createdRuns.add(runId);
    dagRuns.createExternal(new NewDagRun(DAG_ID, runId, "external", "running", null, null, null,
        FIRST_RUN_AFTER.plusSeconds(60L * minutesAfterFirst), null, null, TriggeredBy.CLI, null,
        dag.bundleVersion(), dag.dagVersionId()));
    return runId;
  }

  private static boolean paused() {
    return airflowDb.count("SELECT count(*) FROM dag WHERE dag_id = ? AND is_paused", DAG_ID) == 1;
  }
}
