package dev.airflowtemporal.dbsync;

import com.github.f4b6a3.uuid.UuidCreator;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.hibernate.SessionFactory;

/**
 * Creates a Temporal-owned run's TaskInstances and moves them through Airflow's states. Every call is
 * one short transaction and safe to repeat: creating skips what exists, transitions are
 * compare-and-set, so an activity retried after a crash neither duplicates nor regresses a row.
 */
public final class TaskInstances {
  /** Airflow's state None (SQL NULL): created, not yet scheduled. Same name as core's {@code TaskState.NONE}. */
  public static final String NO_STATE = "none";

  /** RFC 9562 UUIDv7, as Airflow's {@code uuid6.uuid7}: ids sort by creation. */
  public static final Supplier<UUID> UUID_V7 = UuidCreator::getTimeOrderedEpoch;

  /** Airflow 3.3's {@code TaskInstanceState} values, plus {@link #NO_STATE}. */
  static final Set<String> STATES = Set.of(NO_STATE, "removed", "scheduled", "queued", "running", "success",
      "restarting", "failed", "up_for_retry", "up_for_reschedule", "upstream_failed", "skipped", "deferred",
      "awaiting_input");

  private static final String TRANSITION = """
      update task_instance set
        state = cast(:toState as varchar),
        try_number = coalesce(cast(:tryNumber as integer), try_number),
        scheduled_dttm = coalesce(cast(:scheduledAt as timestamptz), scheduled_dttm),
        queued_dttm = coalesce(cast(:queuedAt as timestamptz), queued_dttm),
        start_date = coalesce(cast(:startDate as timestamptz), start_date),
        end_date = coalesce(cast(:endDate as timestamptz), end_date),
        duration = case when cast(:endDate as timestamptz) is null then duration
          else extract(epoch from cast(:endDate as timestamptz)
                 - coalesce(cast(:startDate as timestamptz), start_date)) end,
        updated_at = cast(:now as timestamptz)
      where id = :id and (state in (:fromStates) or (cast(:fromNoState as boolean) and state is null))
      """;

  private final SessionFactory sessionFactory;
  private final Supplier<UUID> newTaskInstanceId;
  private final String unixname = System.getProperty("user.name");

  /** With {@link #UUID_V7} ids. */
  public TaskInstances(AirflowDatabase database) {
    this(database, UUID_V7);
  }

  /**
   * @param newTaskInstanceId a UUIDv7 source, as Airflow's {@code uuid6.uuid7}: ids sort by creation
   */
  public TaskInstances(AirflowDatabase database, Supplier<UUID> newTaskInstanceId) {
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
        inserted += session.createMutationQuery("""
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
            .setParameter("mapIndex", task.mapIndex())
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
      return inserted;
    });
  }

  /**
   * Compare-and-set: moves the TaskInstance to {@code toState} only if its state is one of
   * {@code fromStates}, so a finished TI is never moved unless the caller names its state.
   *
   * @param fromStates Airflow states, {@link #NO_STATE} for a TI not yet scheduled
   * @param tryNumber the new {@code try_number}, or null to keep it
   * @return whether the row changed; false when it was in another state (or does not exist)
   */
  public boolean transition(UUID taskInstanceId, Set<String> fromStates, String toState, TransitionDates dates,
                            Integer tryNumber) {
    requireKnown(toState);
    fromStates.forEach(TaskInstances::requireKnown);
    if (fromStates.isEmpty()) {
      throw new IllegalArgumentException("a transition needs at least one state to move from");
    }
    int updated = sessionFactory.fromTransaction(session -> session.createNativeMutationQuery(TRANSITION)
        .setParameter("toState", NO_STATE.equals(toState) ? null : toState, String.class)
        .setParameter("tryNumber", tryNumber, Integer.class)
        .setParameter("scheduledAt", dates.scheduledAt(), Instant.class)
        .setParameter("queuedAt", dates.queuedAt(), Instant.class)
        .setParameter("startDate", dates.startDate(), Instant.class)
        .setParameter("endDate", dates.endDate(), Instant.class)
        .setParameter("now", DagRuns.now(), Instant.class)
        .setParameter("id", taskInstanceId, UUID.class)
        // "none" is never stored (Airflow writes NULL), so it is a harmless member of the IN list.
        .setParameterList("fromStates", new ArrayList<>(fromStates), String.class)
        .setParameter("fromNoState", fromStates.contains(NO_STATE), Boolean.class)
        .executeUpdate());
    return updated == 1;
  }

  /** Every TaskInstance of the run, by task and map index. */
  public Map<TaskInstanceKey, TaskInstanceStatus> states(String dagId, String runId) {
    List<TaskInstanceRow> rows = sessionFactory.fromTransaction(session -> session.createSelectionQuery(
            "from TaskInstanceRow t where t.dagId = :dagId and t.runId = :runId", TaskInstanceRow.class)
        .setParameter("dagId", dagId)
        .setParameter("runId", runId)
        .getResultList());
    Map<TaskInstanceKey, TaskInstanceStatus> states = new HashMap<>();
    for (TaskInstanceRow row : rows) {
      states.put(new TaskInstanceKey(row.taskId, row.mapIndex),
          new TaskInstanceStatus(row.id, row.state == null ? NO_STATE : row.state, row.tryNumber));
    }
    return states;
  }

  private static void requireKnown(String state) {
    if (!STATES.contains(state)) {
      throw new IllegalArgumentException("'" + state + "' is not an Airflow 3.3 TaskInstance state (or 'none')");
    }
  }
}
