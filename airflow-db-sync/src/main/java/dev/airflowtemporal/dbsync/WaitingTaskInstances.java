package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import jakarta.persistence.Tuple;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.hibernate.SessionFactory;

/**
 * Task instances of Temporal-owned runs whose try waits without a runner, as Airflow 3.3 leaves them:
 * a sensor between pokes ({@code up_for_reschedule}, with the {@code task_reschedule} row the
 * Execution API wrote), a deferral Airflow's triggerer runs ({@code deferred}), a Human-in-the-loop
 * task ({@code awaiting_input}); and what Airflow did to them since: resumed ({@code scheduled}), or
 * ended by the trigger itself. Reads only; queueing the resumed try is {@link TaskInstanceQueueing#queue}'s.
 */
public final class WaitingTaskInstances {
  private final SessionFactory sessionFactory;

  public WaitingTaskInstances(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * Every task instance of a running external run that Airflow resumed (state {@code scheduled}), by
   * run, task and map index. Reads Airflow's {@code ti_state} index.
   */
  public List<ResumedTaskInstance> resumedInRunningExternalRuns() {
    return sessionFactory.fromTransaction(session -> session.createNativeQuery("""
            select t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.scheduled_dttm
            from task_instance t join dag_run r on r.dag_id = t.dag_id and r.run_id = t.run_id
            where t.state = 'scheduled' and r.state = 'running' and r.run_type = :external
            order by t.dag_id, t.run_id, t.task_id, t.map_index""", Tuple.class)
        .setParameter("external", DagRuns.EXTERNAL)
        .getResultList().stream()
        .map(row -> new ResumedTaskInstance(
            new DagRunKey(row.get("dag_id", String.class), row.get("run_id", String.class)),
            new TaskInstanceRef(row.get("task_id", String.class), row.get("map_index", Integer.class)),
            row.get("try_number", Integer.class), row.get("scheduled_dttm", Instant.class)))
        .toList());
  }

  /**
   * When a sensor's try asked to poke again: the {@code reschedule_date} of its latest
   * {@code task_reschedule} row (the Execution API writes one per reschedule, under the try's id).
   *
   * @return empty when the try was never rescheduled
   */
  public Optional<Instant> rescheduleDate(UUID taskInstanceId) {
    return sessionFactory.fromTransaction(session -> session.createNativeQuery("""
            select reschedule_date from task_reschedule where ti_id = :id order by id desc limit 1""",
            Instant.class)
        .setParameter("id", taskInstanceId, UUID.class)
        .uniqueResultOptional());
  }

  /**
   * The given task instances of the run as Airflow's DB has them now, in task id and map index order
   * (one a request names that does not exist is left out).
   */
  public List<StoredTaskInstance> read(DagRunKey run, List<TaskInstanceRef> refs) {
    if (refs.isEmpty()) {
      return List.of();
    }
    List<String> taskIds = refs.stream().map(TaskInstanceRef::taskId).distinct().toList();
    return sessionFactory.fromTransaction(session -> StoredTaskInstance.of(session, session.createSelectionQuery("""
            from TaskInstanceRow t where t.dagId = :dagId and t.runId = :runId and t.taskId in (:taskIds)
            order by t.taskId, t.mapIndex""", TaskInstanceRow.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameterList("taskIds", taskIds)
        .getResultList().stream()
        .filter(t -> refs.contains(new TaskInstanceRef(t.taskId, t.mapIndex)))
        .toList()));
  }
}
