package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.StartTrigger;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.hibernate.SessionFactory;

/**
 * Starts a Temporal-owned run's tries in Airflow's triggerer, as the scheduler does for a task with
 * {@code start_from_trigger} ({@code DagRun.schedule_tis} → {@code TaskInstance.defer_task}, Airflow 3.3.2): a
 * {@code trigger} row with the task's {@code start_trigger_args} (kwargs encrypted as the {@code Trigger} model
 * encrypts them), and the TI deferred on it. No executor, no pool, no runner: Airflow's triggerer runs the
 * trigger and its event resumes the TI (scheduled, with next_method) or ends it ({@code end_from_trigger}). One
 * transaction per call, safe to repeat.
 */
public final class TaskInstanceDeferral {
  /** {@code DagModel.get_team_name}: the team of the DAG's bundle; none outside a multi-team setup. */
  private static final String TEAM_NAME = """
      select t.team_name from dag d join dag_bundle_team t on t.dag_bundle_name = d.bundle_name
      where d.dag_id = :dagId
      """;

  private static final String INSERT_TRIGGER = """
      insert into trigger (classpath, kwargs, created_date, team_name)
      values (:classpath, :kwargs, cast(:now as timestamptz), :teamName)
      returning id
      """;

  /**
   * {@code defer_task}'s changes to the TI: deferred on the trigger with next_method, next_kwargs and the
   * trigger's timeout, started now, at the next try (the same from up_for_reschedule). Compare-and-set on the
   * state and try the request starts from.
   */
  private static final String DEFER = """
      update task_instance set
        state = 'deferred',
        try_number = :toTry,
        trigger_id = :triggerId,
        next_method = :nextMethod,
        next_kwargs = cast(:nextKwargs as jsonb),
        trigger_timeout = cast(:triggerTimeout as timestamptz),
        start_date = cast(:now as timestamptz),
        updated_at = cast(:now as timestamptz)
      where id = :id and try_number = :fromTry and coalesce(state, 'none') = :fromState
      """;

  private final SessionFactory sessionFactory;
  private final FernetKeys fernet;

  public TaskInstanceDeferral(AirflowDatabase database, FernetKeys fernet) {
    this.sessionFactory = database.sessionFactory();
    this.fernet = Objects.requireNonNull(fernet, "fernet");
  }

  /**
   * Defers each requested try at its start, as {@code defer_task}: from None or up_for_retry at
   * {@code try_number + 1}, from up_for_reschedule at the same try. A TI already past that point at the requested
   * try (this call's own earlier commit, and whatever the triggerer did since) is answered
   * {@link QueueResult.Deferred} again, with no second trigger row; one in any other state or try is answered
   * {@link QueueResult.NotQueueable} (a branch skipped it meanwhile), unchanged.
   *
   * @param clearNumber the run's {@code clear_number} the requests were decided on
   * @return one result per request, in request order
   * @throws DagRunClearedException when Airflow cleared the run since then; nothing was written
   */
  public List<QueueResult> deferAtStart(DagRunKey run, int clearNumber, List<AttemptToDefer> requests) {
    if (requests.isEmpty()) {
      return List.of();
    }
    Instant now = DagRuns.now();
    return sessionFactory.fromTransaction(session -> {
      String teamName = session.createNativeQuery(TEAM_NAME, String.class).setParameter("dagId", run.dagId())
          .uniqueResultOptional().orElse(null);
      List<QueueResult> results = new ArrayList<>();
      for (AttemptToDefer request : requests) {
        TaskInstanceRef key = new TaskInstanceRef(request.taskId(), request.mapIndex());
        TaskInstanceRow ti = TaskInstanceRows.lockExisting(session, run, key);
        TaskState state = TaskState.fromAirflow(ti.state);
        boolean sameTry = state == TaskState.UP_FOR_RESCHEDULE;
        int fromTry = sameTry ? request.tryNumber() : request.tryNumber() - 1;
        boolean startable = (sameTry || state == TaskState.NONE || state == TaskState.UP_FOR_RETRY)
            && ti.tryNumber == fromTry;
        if (!startable) {
          boolean alreadyDeferred = state != TaskState.NONE && ti.tryNumber == request.tryNumber();
          results.add(alreadyDeferred ? new QueueResult.Deferred(key, ti.tryNumber)
              : new QueueResult.NotQueueable(key, state, ti.tryNumber));
          continue;
        }
        StartTrigger trigger = request.startTrigger();
        Integer triggerId = session.createNativeQuery(INSERT_TRIGGER, Integer.class)
            .setParameter("classpath", trigger.triggerClass())
            .setParameter("kwargs", fernet.encrypt(kwargsPlaintext(trigger)))
            .setParameter("now", now, Instant.class)
            .setParameter("teamName", teamName, String.class)
            .getSingleResult();
        session.createNativeMutationQuery(DEFER)
            .setParameter("now", now, Instant.class)
            .setParameter("id", ti.id, UUID.class)
            .setParameter("fromTry", fromTry, Integer.class)
            .setParameter("fromState", state.airflowName(), String.class)
            .setParameter("toTry", request.tryNumber(), Integer.class)
            .setParameter("triggerId", triggerId, Integer.class)
            .setParameter("nextMethod", trigger.nextMethod(), String.class)
            .setParameter("nextKwargs", Objects.requireNonNullElse(trigger.nextKwargsJson(), "{}"), String.class)
            .setParameter("triggerTimeout", triggerTimeout(trigger, request, now), Instant.class)
            .executeUpdate();
        results.add(new QueueResult.Deferred(key, request.tryNumber()));
      }
      DagRuns.requireClearNumber(session, run, clearNumber);
      return results;
    });
  }

  /** {@code defer_task}: now + the trigger's timeout, but no later than now + the task's execution_timeout. */
  static Instant triggerTimeout(StartTrigger trigger, AttemptToDefer request, Instant now) {
    Instant byTrigger = trigger.timeout().map(now::plus).orElse(null);
    Instant byTask = request.executionTimeout().map(now::plus).orElse(null);
    if (byTrigger == null || byTask == null) {
      return byTrigger != null ? byTrigger : byTask;
    }
    return byTask.isBefore(byTrigger) ? byTask : byTrigger;
  }

  /**
   * What {@code Trigger.encrypt_kwargs} encrypts: {@code json.dumps(serde.serialize(kwargs))}. The scheduler's kwargs
   * are the serialized DAG's {@code trigger_kwargs} as stored (BaseSerialization's {@code {"__type": "dict",
   * "__var": ...}}: {@code _decode_start_trigger_args} does not decode them), plain JSON that serde passes through
   * unchanged and, reading it back, converts as its old format; none is {@code {}}.
   */
  static String kwargsPlaintext(StartTrigger trigger) {
    return Objects.requireNonNullElse(trigger.triggerKwargsJson(), "{}");
  }
}
