package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;
import org.hibernate.SessionFactory;

/**
 * Moves a Temporal-owned run's TaskInstances to where they settle, as Airflow would: reads a try back
 * after its runner exited, fails a try whose runner died as {@code handle_failure} does, marks what the
 * trigger rules decided, puts a try cleared while it ran back to None, and reads every TaskInstance of
 * the run back. Every call is one short transaction and safe to repeat: transitions are compare-and-set,
 * so a repeated call neither duplicates nor regresses a row.
 */
public final class TaskInstanceSettlement {
  /**
   * The states a TaskInstance is settled in without running it ({@link #markAll}): those of the
   * trigger rules, and success for a plain EmptyOperator.
   */
  private static final Set<TaskState> SETTLED_WITHOUT_RUNNING =
      EnumSet.of(TaskState.SKIPPED, TaskState.UPSTREAM_FAILED, TaskState.REMOVED, TaskState.SUCCESS);

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

  /**
   * {@code TaskInstanceHistory.record_ti}: every column of the TI under its current id, the
   * unfinished state recorded as failed; trigger_timeout is a timestamp without time zone there, in UTC.
   * {@code handle_failure} clears next_method/next_kwargs first, and the Execution API sets the retry
   * policy's fields (none here) first, so the copy has them null.
   * The unique (dag_id, task_id, run_id, map_index, try_number) makes a second record a no-op, as
   * record_ti's existence check does.
   */
  private static final String RECORD_HISTORY = """
      insert into task_instance_history (task_instance_id, task_id, dag_id, run_id, map_index, try_number,
        start_date, end_date, duration, state, max_tries, hostname, unixname, pool, pool_slots, queue,
        priority_weight, operator, custom_operator_name, queued_dttm, scheduled_dttm, queued_by_job_id, pid,
        executor, executor_config, updated_at, rendered_map_index, context_carrier, span_status,
        external_executor_id, trigger_id, trigger_timeout, next_method, next_kwargs, task_display_name,
        dag_version_id, retry_delay_override, retry_reason)
      select id, task_id, dag_id, run_id, map_index, try_number,
        start_date, cast(:endDate as timestamptz), extract(epoch from cast(:endDate as timestamptz) - start_date),
        'failed', max_tries, hostname, unixname, pool, pool_slots, queue,
        priority_weight, operator, custom_operator_name, queued_dttm, scheduled_dttm, queued_by_job_id, pid,
        executor, executor_config, updated_at, rendered_map_index, context_carrier, span_status,
        external_executor_id, trigger_id, trigger_timeout at time zone 'UTC', null, null, task_display_name,
        dag_version_id, null, null
      from task_instance where id = :id
      on conflict (dag_id, task_id, run_id, map_index, try_number) do nothing
      """;

  /** record_ti archives a Human-in-the-loop request with the try it belongs to. */
  private static final String RECORD_HITL_HISTORY = """
      insert into hitl_detail_history (ti_history_id, options, subject, body, defaults, multiple, params,
        assignees, created_at, responded_at, responded_by, chosen_options, params_input)
      select ti_id, options, subject, body, defaults, multiple, params,
        assignees, created_at, responded_at, responded_by, chosen_options, params_input
      from hitl_detail where ti_id = :id
      """;

  /**
   * The audit-log entry ({@code log}) the Execution API writes for each state a runner reports, so the
   * UI's audit log shows the failure as it would had the runner reported it.
   */
  private static final String AUDIT_LOG = """
      insert into log (dttm, dag_id, task_id, map_index, event, logical_date, run_id, owner, extra, try_number)
      select cast(:now as timestamptz), t.dag_id, t.task_id, t.map_index, :event, r.logical_date, t.run_id,
        d.owners, case when t.hostname <> '' then '{"host_name": ' || cast(to_json(t.hostname) as text) || '}' end,
        t.try_number
      from task_instance t
        join dag_run r on r.dag_id = t.dag_id and r.run_id = t.run_id
        left join dag d on d.dag_id = t.dag_id
      where t.id = :id
      """;

  private final SessionFactory sessionFactory;
  private final Supplier<UUID> newTaskInstanceId;

  /** With {@link TaskInstanceCreation#UUID_V7} ids. */
  public TaskInstanceSettlement(AirflowDatabase database) {
    this(database, TaskInstanceCreation.UUID_V7);
  }

  /**
   * @param newTaskInstanceId a UUIDv7 source, as Airflow's {@code uuid6.uuid7}: ids sort by creation
   */
  public TaskInstanceSettlement(AirflowDatabase database, Supplier<UUID> newTaskInstanceId) {
    this.sessionFactory = database.sessionFactory();
    this.newTaskInstanceId = newTaskInstanceId;
  }

  /**
   * Reads a TaskInstance after its runner exited: the runner reports running, success, failed,
   * up_for_retry or skipped through Airflow's Execution API itself, and may skip other tasks (branch
   * operators, short-circuit) the same way.
   *
   * @param since when the attempt was queued, on the clock of the machine calling this: skips written
   *     by the api-server are found by its {@code updated_at}, so clocks must agree to within the gap
   *     between queueing and the runner's first write
   * @throws IllegalArgumentException when the TaskInstance does not exist
   */
  public AttemptReadBack readBack(DagRunKey run, String taskId, int mapIndex, Instant since) {
    TaskInstanceRef key = new TaskInstanceRef(taskId, mapIndex);
    return sessionFactory.fromTransaction(session -> {
      TaskInstanceRow ti = TaskInstanceRows.findExisting(session, run, key);
      List<TaskInstanceRef> skipped = session.createSelectionQuery("""
              select t.taskId, t.mapIndex from TaskInstanceRow t
              where t.dagId = :dagId and t.runId = :runId and t.state = 'skipped' and t.updatedAt >= :since
                and not (t.taskId = :taskId and t.mapIndex = :mapIndex)
              order by t.taskId, t.mapIndex""", Object[].class)
          .setParameter("dagId", run.dagId())
          .setParameter("runId", run.runId())
          .setParameter("since", since)
          .setParameter("taskId", taskId)
          .setParameter("mapIndex", mapIndex)
          .getResultList().stream()
          .map(row -> new TaskInstanceRef((String) row[0], (Integer) row[1]))
          .toList();
      return new AttemptReadBack(ti.id, TaskState.fromAirflow(ti.state), ti.tryNumber, ti.startDate, ti.endDate,
          ti.retryDelayOverride, skipped);
    });
  }

  /**
   * Fails an attempt whose runner died without reporting a final state, as Airflow's
   * {@code handle_failure} does: when it is eligible to retry the try is archived to
   * {@code task_instance_history} (as failed), the TaskInstance gets a new id and becomes
   * up_for_retry; otherwise it becomes failed. Either way end_date and duration are set and the
   * failure is in the audit log. Compare-and-set: only a TaskInstance still queued or running with
   * this try changes, so a runner that did report wins, and a repeated call changes nothing.
   *
   * @param taskHasRetries whether the task has {@code retries}; with them the try is eligible to retry,
   *     as Airflow's {@code is_eligible_to_retry} says, while {@code tryNumber <= max_tries} (a clear
   *     raises max_tries to try_number + retries, so a cleared task has its retries again)
   * @return whether this call changed the TaskInstance
   */
  public boolean failUnfinished(DagRunKey run, String taskId, int mapIndex, int tryNumber, boolean taskHasRetries,
                                Instant endDate) {
    Instant now = DagRuns.now();
    return sessionFactory.fromTransaction(session -> {
      TaskInstanceRow ti = session.createSelectionQuery("""
              from TaskInstanceRow t
              where t.dagId = :dagId and t.runId = :runId and t.taskId = :taskId and t.mapIndex = :mapIndex
                and t.tryNumber = :tryNumber and t.state in ('queued', 'running')""", TaskInstanceRow.class)
          .setParameter("dagId", run.dagId())
          .setParameter("runId", run.runId())
          .setParameter("taskId", taskId)
          .setParameter("mapIndex", mapIndex)
          .setParameter("tryNumber", tryNumber)
          .setLockMode(LockModeType.PESSIMISTIC_WRITE)
          .uniqueResult();
      if (ti == null) {
        return false;
      }
      boolean retryable = taskHasRetries && ti.maxTries != null && tryNumber <= ti.maxTries;
      String state = retryable ? "up_for_retry" : "failed";
      session.createNativeMutationQuery(AUDIT_LOG)
          .setParameter("now", now, Instant.class)
          .setParameter("event", state, String.class)
          .setParameter("id", ti.id, UUID.class)
          .executeUpdate();
      UUID newId = ti.id;
      if (retryable) {
        // prepare_db_for_next_try: archive the try, drop its reschedules, give the next try a new id.
        int recorded = session.createNativeMutationQuery(RECORD_HISTORY)
            .setParameter("endDate", endDate, Instant.class)
            .setParameter("id", ti.id, UUID.class)
            .executeUpdate();
        if (recorded == 1) {
          session.createNativeMutationQuery(RECORD_HITL_HISTORY).setParameter("id", ti.id, UUID.class).executeUpdate();
        }
        session.createNativeMutationQuery("delete from task_reschedule where ti_id = :id")
            .setParameter("id", ti.id, UUID.class)
            .executeUpdate();
        newId = newTaskInstanceId.get();
      }
      // The Execution API stores the retry policy's delay and reason with up_for_retry: there are none.
      session.createNativeMutationQuery("""
              update task_instance set
                id = :newId,
                state = :state,
                end_date = cast(:endDate as timestamptz),
                duration = extract(epoch from cast(:endDate as timestamptz) - start_date),
                next_method = null,
                next_kwargs = null,
                retry_delay_override = case when cast(:retryable as boolean) then null else retry_delay_override end,
                retry_reason = case when cast(:retryable as boolean) then null else retry_reason end,
                updated_at = cast(:now as timestamptz)
              where id = :id""")
          .setParameter("newId", newId, UUID.class)
          .setParameter("state", state, String.class)
          .setParameter("endDate", endDate, Instant.class)
          .setParameter("retryable", retryable, Boolean.class)
          .setParameter("now", now, Instant.class)
          .setParameter("id", ti.id, UUID.class)
          .executeUpdate();
      return true;
    });
  }

  /**
   * Settles TaskInstances the trigger rules decided will not run (skipped, upstream_failed, removed),
   * as {@code TaskInstance.set_state} does: start and end date now unless already set, duration
   * between them. Success is for a plain EmptyOperator, which Airflow's {@code DagRun.schedule_tis}
   * marks so without running it, counting it as a try. Only TaskInstances still in state None
   * change, in one transaction.
   *
   * @param clearNumber the run's {@code clear_number} the marks were decided on
   * @return how many changed
   * @throws DagRunClearedException when Airflow cleared the run since then; nothing was marked
   */
  public int markAll(DagRunKey run, int clearNumber, Map<TaskInstanceRef, TaskState> states) {
    states.values().forEach(state -> {
      if (!SETTLED_WITHOUT_RUNNING.contains(state)) {
        throw new IllegalArgumentException("markAll settles TaskInstances as "
            + SETTLED_WITHOUT_RUNNING.stream().map(TaskState::airflowName).toList() + ", not '" + state.airflowName() + "'");
      }
    });
    // Rows are locked in key order, so two calls over overlapping keys cannot deadlock.
    Map<TaskInstanceRef, TaskState> ordered = new TreeMap<>();
    ordered.putAll(states);
    Instant now = DagRuns.now();
    return sessionFactory.fromTransaction(session -> {
      int changed = 0;
      for (Map.Entry<TaskInstanceRef, TaskState> entry : ordered.entrySet()) {
        changed += session.createNativeMutationQuery("""
                update task_instance set
                  state = :state,
                  try_number = try_number + case when :state = 'success' then 1 else 0 end,
                  start_date = coalesce(start_date, cast(:now as timestamptz)),
                  end_date = coalesce(end_date, cast(:now as timestamptz)),
                  duration = extract(epoch from coalesce(end_date, cast(:now as timestamptz))
                                              - coalesce(start_date, cast(:now as timestamptz))),
                  updated_at = cast(:now as timestamptz)
                where dag_id = :dagId and run_id = :runId and task_id = :taskId and map_index = :mapIndex
                  and state is null""")
            .setParameter("state", entry.getValue().airflowName(), String.class)
            .setParameter("now", now, Instant.class)
            .setParameter("dagId", run.dagId(), String.class)
            .setParameter("runId", run.runId(), String.class)
            .setParameter("taskId", entry.getKey().taskId(), String.class)
            .setParameter("mapIndex", entry.getKey().mapIndex(), Integer.class)
            .executeUpdate();
      }
      DagRuns.requireClearNumber(session, run, clearNumber);
      return changed;
    });
  }

  /**
   * Compare-and-set: moves the TaskInstance to {@code toState} only if its state is one of
   * {@code fromStates}, so a finished TI is never moved unless the caller names its state.
   *
   * @param fromStates the states it may move from ({@link TaskState#NONE} for a TI not yet scheduled)
   * @param tryNumber the new {@code try_number}, or null to keep it
   * @return whether the row changed; false when it was in another state (or does not exist)
   */
  public boolean transition(UUID taskInstanceId, Set<TaskState> fromStates, TaskState toState, TransitionDates dates,
                            Integer tryNumber) {
    if (fromStates.isEmpty()) {
      throw new IllegalArgumentException("a transition needs at least one state to move from");
    }
    int updated = sessionFactory.fromTransaction(session -> session.createNativeMutationQuery(TRANSITION)
        .setParameter("toState", toState.column(), String.class)
        .setParameter("tryNumber", tryNumber, Integer.class)
        .setParameter("scheduledAt", dates.scheduledAt(), Instant.class)
        .setParameter("queuedAt", dates.queuedAt(), Instant.class)
        .setParameter("startDate", dates.startDate(), Instant.class)
        .setParameter("endDate", dates.endDate(), Instant.class)
        .setParameter("now", DagRuns.now(), Instant.class)
        .setParameter("id", taskInstanceId, UUID.class)
        // "none" is never stored (Airflow writes NULL), so it is a harmless member of the IN list.
        .setParameterList("fromStates", fromStates.stream().map(TaskState::airflowName).toList(), String.class)
        .setParameter("fromNoState", fromStates.contains(TaskState.NONE), Boolean.class)
        .executeUpdate());
    return updated == 1;
  }

  /** Every TaskInstance of the run as it is now, in task id and map index order. */
  public List<StoredTaskInstance> all(DagRunKey run) {
    return sessionFactory.fromTransaction(session -> StoredTaskInstance.of(session, session.createSelectionQuery(
            "from TaskInstanceRow t where t.dagId = :dagId and t.runId = :runId order by t.taskId, t.mapIndex",
            TaskInstanceRow.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .getResultList()));
  }

  /**
   * A try Airflow cleared while it ran ({@code restarting}: its runner was told to stop) and whose runner
   * has ended: back to state None so that it runs again, with {@code max_tries = try_number + retries},
   * as Airflow's scheduler does when the executor reports such a try ended. Compare-and-set on
   * restarting and the try number; a repeated call changes nothing.
   *
   * @return whether this call changed the TaskInstance
   */
  public boolean restartCleared(DagRunKey run, TaskInstanceRef key, int tryNumber, int retries) {
    Instant now = DagRuns.now();
    int updated = sessionFactory.fromTransaction(session -> session.createNativeMutationQuery("""
            update task_instance set
              state = null,
              max_tries = try_number + :retries,
              start_date = coalesce(start_date, cast(:now as timestamptz)),
              updated_at = cast(:now as timestamptz)
            where dag_id = :dagId and run_id = :runId and task_id = :taskId and map_index = :mapIndex
              and try_number = :tryNumber and state = 'restarting'""")
        .setParameter("retries", retries, Integer.class)
        .setParameter("now", now, Instant.class)
        .setParameter("dagId", run.dagId(), String.class)
        .setParameter("runId", run.runId(), String.class)
        .setParameter("taskId", key.taskId(), String.class)
        .setParameter("mapIndex", key.mapIndex(), Integer.class)
        .setParameter("tryNumber", tryNumber, Integer.class)
        .executeUpdate());
    return updated == 1;
  }

}
