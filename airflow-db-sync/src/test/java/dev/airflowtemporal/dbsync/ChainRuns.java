package dev.airflowtemporal.dbsync;

import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs of {@code example_temporal_chain} (extract → transform → validate → load) created as a Temporal-owned
 * run creates them, on the DB {@code airflow db migrate} made ({@link OpenAirflowDb}: tests skip without one); each test's runs and
 * pools are deleted after it, so Airflow's tables are left as they were. Register it with
 * {@code @RegisterExtension static final ChainRuns chain = new ChainRuns();}.
 */
public final class ChainRuns implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
  public static final String DAG_ID = "example_temporal_chain";
  public static final List<String> CHAIN = List.of("extract", "transform", "validate", "load");

  private final OpenAirflowDb airflow = new OpenAirflowDb();
  private MigratedAirflowDb airflowDb;
  private AirflowDatabase db;
  private SerializedDag dag;
  private final List<String> createdRunIds = new ArrayList<>();
  private final List<String> createdPools = new ArrayList<>();

  @Override
  public void beforeAll(ExtensionContext context) {
    airflow.beforeAll(context);
    airflowDb = airflow.airflowDb();
    db = airflow.db();
    dag = new SerializedDags(db).latest(DAG_ID);
  }

  /** Runs first: their TaskInstances (and history, task_map, log rows) no longer occupy the pools. */
  @Override
  public void afterEach(ExtensionContext context) throws SQLException {
    for (String runId : createdRunIds) {
      airflowDb.update("DELETE FROM log WHERE dag_id = ? AND run_id = ?", DAG_ID, runId);
      airflowDb.update("DELETE FROM dag_run WHERE dag_id = ? AND run_id = ?", DAG_ID, runId);
    }
    for (String pool : createdPools) {
      airflowDb.update("DELETE FROM slot_pool WHERE pool = ?", pool);
    }
    createdRunIds.clear();
    createdPools.clear();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    airflow.afterAll(context);
  }

  public MigratedAirflowDb airflowDb() {
    return airflowDb;
  }

  public AirflowDatabase db() {
    return db;
  }

  public SerializedDag dag() {
    return dag;
  }

  /** A new running external run with the chain's four TaskInstances, made by {@code taskOf} from their ids. */
  public DagRunKey newRun(Function<String, NewTaskInstance> taskOf) {
    String runId = "external__dbsync_test_" + UUID.randomUUID();
    createdRunIds.add(runId);
    new DagRuns(db).createExternal(new NewDagRun(DAG_ID, runId, "external", "running", null, null, null,
        Instant.parse("2026-01-01T10:00:00Z"), null, null, TriggeredBy.CLI, null, dag.bundleVersion(),
        dag.dagVersionId()));
    DagRunKey run = new DagRunKey(DAG_ID, runId);
    new TaskInstanceCreation(db).createAll(run, dag.dagVersionId(), CHAIN.stream().map(taskOf).toList());
    return run;
  }

  /** An unmapped {@code @task} of the chain in {@code pool}, with {@code retries} retries. */
  public static NewTaskInstance task(String taskId, String pool, int poolSlots, int retries) {
    return new NewTaskInstance(taskId, -1, pool, poolSlots, "default", 1, retries, "_PythonDecoratedOperator", "@task",
        null, null);
  }

  /** A new pool of {@code slots}, deleted after the test. */
  public String newPool(int slots, boolean includeDeferred) throws SQLException {
    String pool = "dbsync_test_" + UUID.randomUUID().toString().substring(0, 8);
    createdPools.add(pool);
    airflowDb.update("INSERT INTO slot_pool (pool, slots, description, include_deferred) VALUES (?, "
        + slots + ", 'dbsync test', " + includeDeferred + ")", pool);
    return pool;
  }
}
