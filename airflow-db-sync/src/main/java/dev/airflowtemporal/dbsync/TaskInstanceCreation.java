package dev.airflowtemporal.dbsync;

import com.github.f4b6a3.uuid.UuidCreator;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.hibernate.Session;
import org.hibernate.SessionFactory;

/**
 * Creates a Temporal-owned run's TaskInstances as Airflow's {@code DagRun.verify_integrity} does, and
 * expands mapped tasks into their map indexes as {@code TaskMap.expand_mapped_task} does. Every call is
 * one short transaction and safe to repeat: what exists is left as it is.
 */
public final class TaskInstanceCreation {
  /** RFC 9562 UUIDv7, as Airflow's {@code uuid6.uuid7}: ids sort by creation. */
  public static final Supplier<UUID> UUID_V7 = UuidCreator::getTimeOrderedEpoch;

  /** Airflow's {@code State.unfinished} as stored, less None (SQL NULL). */
  private static final List<String> UNFINISHED = TaskState.UNFINISHED.stream().filter(s -> s != TaskState.NONE)
      .map(TaskState::airflowName).toList();

  private final SessionFactory sessionFactory;
  private final Supplier<UUID> newTaskInstanceId;
  private final String unixname = System.getProperty("user.name");

  /** With {@link #UUID_V7} ids. */
  public TaskInstanceCreation(AirflowDatabase database) {
    this(database, UUID_V7);
  }

  /**
   * @param newTaskInstanceId a UUIDv7 source, as Airflow's {@code uuid6.uuid7}: ids sort by creation
   */
  public TaskInstanceCreation(AirflowDatabase database, Supplier<UUID> newTaskInstanceId) {
    this.sessionFactory = database.sessionFactory();
    this.newTaskInstanceId = newTaskInstanceId;
  }

  /**
   * Inserts the TaskInstances the run lacks, state None and try 0 as Airflow's
   * {@code DagRun.verify_integrity} creates them; existing ones (same dag_id, task_id, run_id,
   * map_index) are left exactly as they are.
   *
   * @return how many were inserted
   */
  public int createAll(DagRunKey run, UUID dagVersionId, List<NewTaskInstance> tasks) {
    Instant now = DagRuns.now();
    return sessionFactory.fromTransaction(session -> {
      int inserted = 0;
      for (NewTaskInstance task : tasks) {
        inserted += insertIfAbsent(session, run, dagVersionId, task, task.mapIndex(), now);
      }
      return inserted;
    });
  }

  /**
   * Expands a mapped task once its upstream's {@code task_map} length is known, as Airflow's
   * {@code TaskMap.expand_mapped_task} does to the rows: the unfinished unmapped TaskInstance
   * (map_index -1) becomes map index 0 (with {@code count} 0 it becomes skipped instead), indices up to
   * {@code count - 1} that are missing are created in state None with the unmapped one's DAG version,
   * and indices at or above {@code count} become removed. A repeated call changes nothing.
   *
   * @param clearNumber the run's {@code clear_number} the expansion was decided on
   * @param template the task as {@link #createAll} takes it, with map index -1
   * @return how many rows this call changed or created
   * @throws DagRunClearedException when Airflow cleared the run since then; nothing was expanded
   */
  public int expandMapped(DagRunKey run, int clearNumber, NewTaskInstance template, int count) {
    if (template.mapIndex() != -1) {
      throw new IllegalArgumentException("the template of mapped task '" + template.taskId()
          + "' must be its unmapped TaskInstance (map index -1), got " + template.mapIndex());
    }
    if (count < 0) {
      throw new IllegalArgumentException("a task maps over zero or more values, not " + count);
    }
    Instant now = DagRuns.now();
    String taskId = template.taskId();
    return sessionFactory.fromTransaction(session -> {
      int changed = 0;
      TaskInstanceRow unmapped = session.createSelectionQuery("""
              from TaskInstanceRow t
              where t.dagId = :dagId and t.runId = :runId and t.taskId = :taskId and t.mapIndex = -1
                and (t.state is null or t.state in (:unfinished))""", TaskInstanceRow.class)
          .setParameter("dagId", run.dagId())
          .setParameter("runId", run.runId())
          .setParameter("taskId", taskId)
          .setParameterList("unfinished", UNFINISHED)
          .setLockMode(LockModeType.PESSIMISTIC_WRITE)
          .uniqueResult();
      UUID dagVersionId = unmapped != null ? unmapped.dagVersionId : lowestMapIndexDagVersion(session, run, taskId);
      if (unmapped != null && count == 0) {
        changed += session.createNativeMutationQuery(
                "update task_instance set state = 'skipped', updated_at = cast(:now as timestamptz) where id = :id")
            .setParameter("now", now, Instant.class)
            .setParameter("id", unmapped.id, UUID.class)
            .executeUpdate();
      } else if (unmapped != null && TaskInstanceRows.exists(session, run, new TaskInstanceRef(taskId, 0))) {
        changed += session.createNativeMutationQuery("delete from task_instance where id = :id")
            .setParameter("id", unmapped.id, UUID.class)
            .executeUpdate();
      } else if (unmapped != null) {
        changed += session.createNativeMutationQuery(
                "update task_instance set map_index = 0, updated_at = cast(:now as timestamptz) where id = :id")
            .setParameter("now", now, Instant.class)
            .setParameter("id", unmapped.id, UUID.class)
            .executeUpdate();
      }
      if (count > 0) {
        Integer highest = session.createSelectionQuery("""
                select max(t.mapIndex) from TaskInstanceRow t
                where t.dagId = :dagId and t.runId = :runId and t.taskId = :taskId""", Integer.class)
            .setParameter("dagId", run.dagId())
            .setParameter("runId", run.runId())
            .setParameter("taskId", taskId)
            .getSingleResult();
        for (int mapIndex = (highest == null ? -1 : highest) + 1; mapIndex < count; mapIndex++) {
          changed += insertIfAbsent(session, run, dagVersionId, template, mapIndex, now);
        }
      }
      changed += session.createNativeMutationQuery("""
              update task_instance set state = 'removed', updated_at = cast(:now as timestamptz)
              where dag_id = :dagId and run_id = :runId and task_id = :taskId and map_index >= :count
                and state is distinct from 'removed'""")
          .setParameter("now", now, Instant.class)
          .setParameter("dagId", run.dagId(), String.class)
          .setParameter("runId", run.runId(), String.class)
          .setParameter("taskId", taskId, String.class)
          .setParameter("count", count, Integer.class)
          .executeUpdate();
      DagRuns.requireClearNumber(session, run, clearNumber);
      return changed;
    });
  }

  /** {@code TaskInstance.insert_mapping}'s row for one task and map index, unless it exists. */
  private int insertIfAbsent(Session session, DagRunKey run, UUID dagVersionId, NewTaskInstance task, int mapIndex,
                             Instant now) {
    return session.createMutationQuery("""
            insert into TaskInstanceRow (id, dagId, taskId, runId, mapIndex, tryNumber, maxTries, hostname,
              unixname, pool, poolSlots, queue, priorityWeight, operator, customOperatorName, taskDisplayName,
              executor, dagVersionId, updatedAt)
            values (:id, :dagId, :taskId, :runId, :mapIndex, 0, :maxTries, '',
              :unixname, :pool, :poolSlots, :queue, :priorityWeight, :operator, :customOperatorName,
              :taskDisplayName, :executor, :dagVersionId, :now)
            on conflict (dagId, taskId, runId, mapIndex) do nothing""")
        .setParameter("id", newTaskInstanceId.get())
        .setParameter("dagId", run.dagId())
        .setParameter("taskId", task.taskId())
        .setParameter("runId", run.runId())
        .setParameter("mapIndex", mapIndex)
        .setParameter("maxTries", task.maxTries())
        .setParameter("unixname", unixname)
        .setParameter("pool", task.pool())
        .setParameter("poolSlots", task.poolSlots())
        .setParameter("queue", task.queue())
        .setParameter("priorityWeight", task.priorityWeight())
        .setParameter("operator", task.operator())
        .setParameter("customOperatorName", task.customOperatorName())
        .setParameter("taskDisplayName", task.displayName())
        .setParameter("executor", task.executor())
        .setParameter("dagVersionId", dagVersionId)
        .setParameter("now", now)
        .executeUpdate();
  }

  /** The DAG version of a task's existing TaskInstances, once its unmapped one has been expanded. */
  private static UUID lowestMapIndexDagVersion(Session session, DagRunKey run, String taskId) {
    return session.createSelectionQuery("""
            select t.dagVersionId from TaskInstanceRow t
            where t.dagId = :dagId and t.runId = :runId and t.taskId = :taskId
            order by t.mapIndex""", UUID.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameter("taskId", taskId)
        .setMaxResults(1)
        .uniqueResult();
  }

}
