package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The lengths tasks mapped over an upstream's output expand to, read as Airflow's scheduler reads them
 * ({@code get_task_map_length}), against PostgreSQL migrated by the real {@code airflow db migrate}. What a
 * runner records through the Execution API ({@code task_map}, XComs) is written here with plain SQL.
 */
class TaskMapsTest {
  @RegisterExtension
  static final ChainRuns chain = new ChainRuns();
  private static final String DAG_ID = ChainRuns.DAG_ID;

  private static MigratedAirflowDb airflowDb;
  private static TaskInstanceCreation creation;
  private static TaskMaps taskMaps;

  @BeforeAll
  static void openDatabase() {
    airflowDb = chain.airflowDb();
    creation = new TaskInstanceCreation(chain.db());
    taskMaps = new TaskMaps(chain.db());
  }

  @Test
  void aMappedUpstreamCountsTheValuesItsInstancesReturnedOnceNoneIsUnfinished() throws SQLException {
    DagRunKey run = newRun();
    assertThat(taskMaps.mappedTaskLength(run, "transform")).as("not expanded: its unmapped instance is unfinished")
        .isEmpty();
    creation.expandMapped(run, 0, task("transform"), 4);
    setState(run, "transform", 0, "success");
    pushReturnValue(run, "transform", 0);
    setState(run, "transform", 1, "success");
    pushReturnValue(run, "transform", 1);
    setState(run, "transform", 2, "up_for_retry");
    setState(run, "transform", 3, "running");
    assertThat(taskMaps.mappedTaskLength(run, "transform")).isEmpty();

    setState(run, "transform", 2, "success");
    pushReturnValue(run, "transform", 2);
    setState(run, "transform", 3, "failed");
    // Another key, and the unmapped instance's, are not values to map over.
    pushXCom(run, "transform", 2, "note");
    assertThat(taskMaps.mappedTaskLength(run, "transform")).as("3 values; the failed instance returned none")
        .hasValue(3);
  }

  @Test
  void aMappedUpstreamWhoseInstancesAllEndedWithoutValuesHasLengthZero() throws SQLException {
    DagRunKey run = newRun();
    creation.expandMapped(run, 0, task("transform"), 2);
    setState(run, "transform", 0, "skipped");
    setState(run, "transform", 1, "upstream_failed");
    assertThat(taskMaps.mappedTaskLength(run, "transform")).hasValue(0);
  }

  @Test
  void anUnmappedUpstreamCountsOnlyTheLengthItsUnmappedInstanceRecorded() throws SQLException {
    DagRunKey run = newRun();
    assertThat(taskMaps.length(run, "extract")).isEmpty();
    airflowDb.update("INSERT INTO task_map (dag_id, task_id, run_id, map_index, length, keys) "
        + "VALUES (?, 'extract', ?, -1, 5, NULL)", DAG_ID, run.runId());
    assertThat(taskMaps.length(run, "extract")).hasValue(5);

    // A task in a mapped TaskGroup records one length per map index: Airflow reads none of them.
    creation.expandMapped(run, 0, task("transform"), 1);
    airflowDb.update("INSERT INTO task_map (dag_id, task_id, run_id, map_index, length, keys) "
        + "VALUES (?, 'transform', ?, 0, 2, NULL)", DAG_ID, run.runId());
    assertThat(taskMaps.length(run, "transform")).isEmpty();
  }

  private static DagRunKey newRun() {
    return chain.newRun(TaskMapsTest::task);
  }

  private static NewTaskInstance task(String taskId) {
    return ChainRuns.task(taskId, "default_pool", 1, 0);
  }

  private static void setState(DagRunKey run, String taskId, int mapIndex, String state) throws SQLException {
    airflowDb.update("UPDATE task_instance SET state = ? WHERE dag_id = ? AND run_id = ? AND task_id = ? "
        + "AND map_index = " + mapIndex, state, run.dagId(), run.runId(), taskId);
  }

  private static void pushReturnValue(DagRunKey run, String taskId, int mapIndex) throws SQLException {
    pushXCom(run, taskId, mapIndex, "return_value");
  }

  private static void pushXCom(DagRunKey run, String taskId, int mapIndex, String key) throws SQLException {
    airflowDb.update("INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp) "
        + "SELECT id, ?, " + mapIndex + ", ?, dag_id, run_id, '1', now() FROM dag_run WHERE dag_id = ? AND run_id = ?",
        taskId, key, run.dagId(), run.runId());
  }
}
