package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.StartTrigger;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tries that start in Airflow's triggerer, against PostgreSQL migrated by the real {@code airflow db migrate}: the
 * trigger row and the deferred TI are read back by Airflow's own {@code Trigger} and {@code TaskInstance} models in
 * the venv's Python, with the same fernet key — what its triggerer does before it runs the trigger.
 */
class TaskInstanceDeferralTest {
  @RegisterExtension
  static final ChainRuns chain = new ChainRuns();
  private static final String DAG_ID = ChainRuns.DAG_ID;
  private static final TaskInstanceRef EXTRACT = TaskInstanceRef.of("extract");
  /** Two keys, as a rotation has them: Airflow encrypts with the first (MultiFernet). */
  private static final String KEYS = "Sj7bqCEA1Z3kPPoGPWO7Ve3cbnUTYBxsMOrWP-uxSbw=,"
      + "tNlsdL8m7iX4jcVsQtMtVN7rGhcB6kZyPJZyBbwvQ3s=";
  /** DateTimeSensorAsync(start_from_trigger=True)'s trigger_kwargs as Airflow 3.3.2 serialized them (executor-core's fixture). */
  private static final String KWARGS = "{\"__type\":\"dict\",\"__var\":{\"end_from_trigger\":false,"
      + "\"target_time\":{\"__type\":\"datetime\",\"__var\":1.7672256E9}}}";
  private static final StartTrigger TRIGGER = new StartTrigger(
      "airflow.providers.standard.triggers.temporal.DateTimeTrigger", KWARGS, "execute_complete", null,
      Optional.of(Duration.ofMinutes(1)));

  /**
   * Airflow's models read the row and build the trigger from it as the triggerer does ({@code import_string} of its
   * classpath, called with its decrypted kwargs); the same kwargs encrypted by Airflow itself must read back equal.
   */
  private static final String AIRFLOW_READS = """
      import json, os, sys
      dag_id, run_id, task_id, keys, fixture = sys.argv[1:]
      if keys:
          os.environ["AIRFLOW__CORE__FERNET_KEY"] = keys
      from sqlalchemy import select
      from airflow.models.taskinstance import TaskInstance
      from airflow.models.trigger import Trigger
      from airflow._shared.module_loading import import_string
      from airflow.utils.session import create_session
      with create_session() as session:
          ti = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id,
              TaskInstance.run_id == run_id, TaskInstance.task_id == task_id)).one()
          trigger = session.get(Trigger, ti.trigger_id)
          built = import_string(trigger.classpath)(**trigger.kwargs)
          print("ti", ti.state, ti.try_number, ti.next_method, json.dumps(ti.next_kwargs),
                int((ti.trigger_timeout - ti.start_date).total_seconds()))
          print("trigger", trigger.classpath, trigger.team_name, trigger.encrypted_kwargs.startswith("{"))
          print("built", type(built).__name__, built.target_time.isoformat(), built.end_from_trigger)
          print("same as Airflow's own", trigger.kwargs == Trigger._decrypt_kwargs(
              Trigger.encrypt_kwargs(json.loads(fixture))))
      """;

  private static MigratedAirflowDb airflowDb;

  @BeforeAll
  static void openDatabase() {
    airflowDb = chain.airflowDb();
  }

  @AfterEach
  void deleteTriggers() throws SQLException {
    airflowDb.update("DELETE FROM trigger WHERE classpath = ?", TRIGGER.triggerClass());
  }

  @Test
  void airflowsOwnModelsDecryptTheTriggerRowAndSeeTheTryDeferredAsDeferTaskLeavesIt() throws Exception {
    DagRunKey run = newRun();

    assertThat(deferral(KEYS).deferAtStart(run, 0, List.of(attempt(1, Duration.ofMinutes(10)))))
        .containsExactly(new QueueResult.Deferred(EXTRACT, 1));

    assertThat(airflowDb.airflowPython(AIRFLOW_READS, DAG_ID, run.runId(), "extract", KEYS, KWARGS)).contains(
        "ti deferred 1 execute_complete {} 60",
        "trigger airflow.providers.standard.triggers.temporal.DateTimeTrigger None False",
        "built DateTimeTrigger 2026-01-01T00:00:00+00:00 False",
        "same as Airflow's own True");
  }

  @Test
  void withoutAKeyTheKwargsAreStoredAsAirflowsNullFernetStoresThem() throws Exception {
    DagRunKey run = newRun();

    deferral("").deferAtStart(run, 0, List.of(attempt(1, Duration.ofSeconds(30))));

    assertThat(airflowDb.airflowPython(AIRFLOW_READS, DAG_ID, run.runId(), "extract", "", KWARGS)).contains(
        "ti deferred 1 execute_complete {} 30",  // the execution_timeout is the sooner
        "trigger airflow.providers.standard.triggers.temporal.DateTimeTrigger None True",
        "same as Airflow's own True");
  }

  @Test
  void aRepeatedCallFindsItsDeferralAndWritesNoSecondTrigger() throws Exception {
    DagRunKey run = newRun();
    TaskInstanceDeferral deferral = deferral(KEYS);
    deferral.deferAtStart(run, 0, List.of(attempt(1, null)));

    assertThat(deferral.deferAtStart(run, 0, List.of(attempt(1, null)))).as("repeated")
        .containsExactly(new QueueResult.Deferred(EXTRACT, 1));
    airflowDb.update("UPDATE task_instance SET state = 'scheduled' WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'extract'", DAG_ID, run.runId());
    assertThat(deferral.deferAtStart(run, 0, List.of(attempt(1, null)))).as("repeated after the triggerer resumed it")
        .containsExactly(new QueueResult.Deferred(EXTRACT, 1));
    assertThat(airflowDb.count("SELECT count(*) FROM trigger WHERE classpath = ?", TRIGGER.triggerClass()))
        .isEqualTo(1);
  }

  @Test
  void aTryAirflowSettledFirstIsLeftAsItIs() throws Exception {
    DagRunKey run = newRun();
    airflowDb.update("UPDATE task_instance SET state = 'skipped' WHERE dag_id = ? AND run_id = ? "
        + "AND task_id = 'extract'", DAG_ID, run.runId());

    assertThat(deferral(KEYS).deferAtStart(run, 0, List.of(attempt(1, null))))
        .containsExactly(new QueueResult.NotQueueable(EXTRACT, TaskState.SKIPPED, 0));
    assertThat(airflowDb.count("SELECT count(*) FROM trigger WHERE classpath = ?", TRIGGER.triggerClass()))
        .isEqualTo(0);
  }

  @Test
  void aRetryStartsFromItsTriggerAtTheNextTryAndAClearedRunIsRefusedWithNothingWritten() throws Exception {
    DagRunKey run = newRun();
    airflowDb.update("UPDATE task_instance SET state = 'up_for_retry', try_number = 1 WHERE dag_id = ? "
        + "AND run_id = ? AND task_id = 'extract'", DAG_ID, run.runId());

    assertThatThrownBy(() -> deferral(KEYS).deferAtStart(run, -1, List.of(attempt(2, null))))
        .isInstanceOf(DagRunClearedException.class);
    assertThat(airflowDb.count("SELECT count(*) FROM trigger WHERE classpath = ?", TRIGGER.triggerClass()))
        .isEqualTo(0);
    assertThat(deferral(KEYS).deferAtStart(run, 0, List.of(attempt(2, null))))
        .containsExactly(new QueueResult.Deferred(EXTRACT, 2));
  }

  @Test
  void aFernetKeyThatIsNotOneIsRefusedWithoutShowingIt() {
    assertThatThrownBy(() -> FernetKeys.parse("Sj7bqCEA1Z3kPPoGPWO7Ve3cbnUTYBxsMOrWP-uxSbw=,not-a-key"))
        .hasMessage("[core] fernet_key: key 2 of 2 is not 32 url-safe base64-encoded bytes");
    assertThat(FernetKeys.parse(KEYS)).hasToString("FernetKeys[2 key(s)]");
  }

  private static TaskInstanceDeferral deferral(String keys) {
    return new TaskInstanceDeferral(chain.db(), FernetKeys.parse(keys));
  }

  private static AttemptToDefer attempt(int tryNumber, Duration executionTimeout) {
    return new AttemptToDefer("extract", -1, tryNumber, TRIGGER, Optional.ofNullable(executionTimeout));
  }

  private static DagRunKey newRun() {
    return chain.newRun(t -> ChainRuns.task(t, "default_pool", 1, 1));
  }
}
