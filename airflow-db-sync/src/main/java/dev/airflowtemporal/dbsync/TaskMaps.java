package dev.airflowtemporal.dbsync;

import java.util.OptionalInt;
import org.hibernate.SessionFactory;

/**
 * Reads Airflow's {@code task_map}: the length of the value a task returned, which its runner records
 * (through the Execution API) when a downstream task is mapped over it.
 */
public final class TaskMaps {
  private final SessionFactory sessionFactory;

  public TaskMaps(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * How many values the unmapped upstream task produced for mapping downstream tasks.
   *
   * @return empty until the upstream's runner recorded it (it does so when the upstream succeeds)
   */
  public OptionalInt length(DagRunKey run, String upstreamTaskId) {
    Integer length = sessionFactory.fromTransaction(session -> session.createNativeQuery("""
            select length from task_map
            where dag_id = :dagId and run_id = :runId and task_id = :taskId and map_index = -1""", Integer.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameter("taskId", upstreamTaskId)
        .uniqueResult());
    return length == null ? OptionalInt.empty() : OptionalInt.of(length);
  }
}
