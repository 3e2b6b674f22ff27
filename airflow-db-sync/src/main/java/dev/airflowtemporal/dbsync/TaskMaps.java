package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskState;
import java.util.List;
import java.util.OptionalInt;
import org.hibernate.SessionFactory;

/**
 * How many values a task's returned value gives the tasks mapped over it, read as Airflow 3.3's
 * scheduler reads it ({@code get_task_map_length} in airflow/serialization/definitions/xcom_arg.py).
 */
public final class TaskMaps {
  /** Airflow's {@code State.unfinished}, less None (SQL NULL). */
  private static final List<String> UNFINISHED = TaskState.UNFINISHED.stream().filter(s -> s != TaskState.NONE)
      .map(TaskState::airflowName).sorted().toList();

  /**
   * A mapped task's values: one per XCom {@code return_value} its expanded instances pushed, counted
   * only once none of its instances (nor its unexpanded one) is unfinished.
   */
  private static final String MAPPED_TASK_LENGTH = """
      select case
        when exists (select 1 from task_instance
                     where dag_id = :dagId and run_id = :runId and task_id = :taskId
                       and (state is null or state in (:unfinished)))
          then null
        else (select cast(count(x.map_index) as integer) from xcom x
              where x.dag_id = :dagId and x.run_id = :runId and x.task_id = :taskId
                and x.map_index >= 0 and x.key = 'return_value')
      end""";

  private final SessionFactory sessionFactory;

  public TaskMaps(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * How many values an unmapped task produced for mapping downstream tasks: the length its runner
   * recorded in {@code task_map} when it succeeded (a task inside a mapped TaskGroup records one per map
   * index, which Airflow does not read for this either).
   *
   * @return empty until the upstream's runner recorded it
   */
  public OptionalInt length(DagRunKey run, String upstreamTaskId) {
    Integer length = sessionFactory.fromTransaction(session -> session.createNativeQuery("""
            select length from task_map
            where dag_id = :dagId and run_id = :runId and task_id = :taskId and map_index < 0""", Integer.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameter("taskId", upstreamTaskId)
        .uniqueResult());
    return length == null ? OptionalInt.empty() : OptionalInt.of(length);
  }

  /**
   * How many values a mapped task produced for the tasks mapped over its output: the number of values
   * all its instances returned (an instance that failed, was skipped or returned None adds none).
   *
   * @return empty while any of its task instances is unfinished (or it has not been expanded yet)
   */
  public OptionalInt mappedTaskLength(DagRunKey run, String upstreamTaskId) {
    Integer length = sessionFactory.fromTransaction(session -> session.createNativeQuery(MAPPED_TASK_LENGTH,
            Integer.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameter("taskId", upstreamTaskId)
        .setParameterList("unfinished", UNFINISHED)
        .uniqueResult());
    return length == null ? OptionalInt.empty() : OptionalInt.of(length);
  }
}
