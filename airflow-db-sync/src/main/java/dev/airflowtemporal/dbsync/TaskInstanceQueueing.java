package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import jakarta.persistence.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.hibernate.Session;
import org.hibernate.SessionFactory;

/**
 * Queues a Temporal-owned run's attempts as Airflow's scheduler does, within pools shared with every
 * other run (Temporal-owned or not). One short transaction per call, safe to repeat.
 */
public final class TaskInstanceQueueing {
  /**
   * Locks the pools the requested tasks use, in name order so that concurrent callers cannot deadlock.
   * Airflow's scheduler takes the same row locks (NOWAIT) before it queues, so while we hold them it
   * skips its critical section rather than queue into the same slots.
   */
  private static final String LOCK_POOLS = """
      select pool, slots, include_deferred from slot_pool
      where pool in (select pool from task_instance
                     where dag_id = :dagId and run_id = :runId and task_id in (:taskIds))
      order by pool
      for update
      """;

  /** The slots {@code Pool.slots_stats} counts as taken, in every DagRun: queued, running, deferred. */
  private static final String OCCUPIED_SLOTS = """
      select pool,
             coalesce(sum(pool_slots) filter (where state in ('queued', 'running')), 0) as executing,
             coalesce(sum(pool_slots) filter (where state = 'deferred'), 0) as deferred
      from task_instance
      where pool in (:pools) and state in ('queued', 'running', 'deferred')
      group by pool
      """;

  /**
   * What the scheduler's {@code schedule_tis} (try_number + 1, but the same try for up_for_reschedule)
   * and critical section (queued) do, in one step; a try Airflow resumed (scheduled) keeps its try too.
   * Compare-and-set on the state and try the request starts from.
   */
  private static final String QUEUE = """
      update task_instance set
        state = 'queued',
        try_number = :toTry,
        scheduled_dttm = case when state = 'scheduled' then scheduled_dttm else cast(:now as timestamptz) end,
        queued_dttm = cast(:now as timestamptz),
        queued_by_job_id = null,
        hostname = '',
        updated_at = cast(:now as timestamptz)
      where id = :id and try_number = :fromTry and coalesce(state, 'none') = :fromState
      """;

  /** States a try waits in for its next poke or Airflow's resumption, queued again at the same try. */
  private static final Set<TaskState> QUEUED_AT_THE_SAME_TRY = EnumSet.of(TaskState.UP_FOR_RESCHEDULE,
      TaskState.SCHEDULED);
  /** States of a try that waits for Airflow (its triggerer, a human) to resume it: never queued by a request. */
  private static final Set<TaskState> WAITING_TO_BE_RESUMED = EnumSet.of(TaskState.DEFERRED, TaskState.AWAITING_INPUT);

  private final SessionFactory sessionFactory;

  public TaskInstanceQueueing(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * Queues attempts as Airflow's scheduler does, honouring pools across every DagRun (Temporal-owned
   * or not): one transaction that locks the pools involved, counts their open slots as
   * {@code Pool.slots_stats} does, then takes the requests in the given order (the caller's priority
   * order) and queues each whose pool has room: state queued, queued now, and {@code try_number + 1}
   * from None or up_for_retry, or the same try from up_for_reschedule (a sensor's next poke) or
   * scheduled (a deferred or awaiting_input try Airflow resumed).
   * A request whose try is already queued (or has run since, but is not waiting to be resumed) is
   * answered {@link QueueResult.Queued} again without a change, so a retried activity neither queues
   * twice nor takes a second slot.
   *
   * @param clearNumber the run's {@code clear_number} the requests were decided on
   * @return one result per request, in request order
   * @throws UnknownPoolException when a task to queue names a pool Airflow does not have
   * @throws IllegalArgumentException when a requested TaskInstance does not exist (see {@link TaskInstanceCreation#createAll}),
   *     or is requested twice
   * @throws DagRunClearedException when Airflow cleared the run since then; nothing was queued
   */
  public List<QueueResult> queue(DagRunKey run, int clearNumber, List<AttemptToQueue> requests) {
    if (requests.isEmpty()) {
      return List.of();
    }
    if (requests.stream().map(r -> new TaskInstanceRef(r.taskId(), r.mapIndex())).distinct().count() < requests.size()) {
      throw new IllegalArgumentException("each TaskInstance can be queued once per call: " + requests);
    }
    requests.stream().filter(r -> r.tryNumber() < 1).findFirst().ifPresent(r -> {
      throw new IllegalArgumentException("tries are numbered from 1, got " + r);
    });
    Instant now = DagRuns.now();
    List<String> taskIds = requests.stream().map(AttemptToQueue::taskId).distinct().toList();
    return sessionFactory.fromTransaction(session -> {
      Map<String, PoolUsage> pools = lockPools(session, run, taskIds);
      List<QueueResult> results = new ArrayList<>();
      for (AttemptToQueue request : requests) {
        TaskInstanceRef key = new TaskInstanceRef(request.taskId(), request.mapIndex());
        TaskInstanceRow ti = TaskInstanceRows.lockExisting(session, run, key);
        TaskState state = TaskState.fromAirflow(ti.state);
        boolean sameTry = QUEUED_AT_THE_SAME_TRY.contains(state);
        int fromTry = sameTry ? request.tryNumber() : request.tryNumber() - 1;
        boolean startable = (sameTry || state == TaskState.NONE || state == TaskState.UP_FOR_RETRY)
            && ti.tryNumber == fromTry;
        if (!startable) {
          boolean alreadyQueued = state != TaskState.NONE && !WAITING_TO_BE_RESUMED.contains(state)
              && ti.tryNumber == request.tryNumber();
          results.add(alreadyQueued
              ? new QueueResult.Queued(key, ti.id, ti.tryNumber)
              : new QueueResult.NotQueueable(key, state, ti.tryNumber));
          continue;
        }
        PoolUsage pool = pools.get(ti.pool);
        if (pool == null) {
          throw new UnknownPoolException(ti.pool);
        }
        if (!pool.hasRoomFor(ti.poolSlots)) {
          results.add(new QueueResult.PoolFull(key, ti.pool, ti.poolSlots, pool.open(), pool.slots));
          continue;
        }
        session.createNativeMutationQuery(QUEUE)
            .setParameter("now", now, Instant.class)
            .setParameter("id", ti.id, UUID.class)
            .setParameter("fromTry", fromTry, Integer.class)
            .setParameter("fromState", state.airflowName(), String.class)
            .setParameter("toTry", request.tryNumber(), Integer.class)
            .executeUpdate();
        pool.take(ti.poolSlots);
        results.add(new QueueResult.Queued(key, ti.id, request.tryNumber()));
      }
      DagRuns.requireClearNumber(session, run, clearNumber);
      return results;
    });
  }

  /** Locks the pools of the given tasks and counts what every DagRun occupies in them, by pool name. */
  private static Map<String, PoolUsage> lockPools(Session session, DagRunKey run, List<String> taskIds) {
    Map<String, PoolUsage> pools = new HashMap<>();
    for (Tuple pool : session.createNativeQuery(LOCK_POOLS, Tuple.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameterList("taskIds", taskIds)
        .getResultList()) {
      pools.put(pool.get("pool", String.class),
          new PoolUsage(pool.get("slots", Integer.class), pool.get("include_deferred", Boolean.class)));
    }
    if (pools.isEmpty()) {
      return pools;
    }
    for (Tuple occupied : session.createNativeQuery(OCCUPIED_SLOTS, Tuple.class)
        .setParameterList("pools", new ArrayList<>(pools.keySet()))
        .getResultList()) {
      PoolUsage pool = pools.get(occupied.get("pool", String.class));
      pool.take(((Number) occupied.get("executing")).longValue());
      if (pool.includeDeferred) {
        pool.take(((Number) occupied.get("deferred")).longValue());
      }
    }
    return pools;
  }

  /**
   * A pool's open slots as {@code Pool.slots_stats} computes them; {@link Pools#UNLIMITED} slots never
   * run out.
   */
  private static final class PoolUsage {
    final int slots;
    final boolean includeDeferred;
    private long taken;

    PoolUsage(int slots, boolean includeDeferred) {
      this.slots = slots;
      this.includeDeferred = includeDeferred;
    }

    void take(long poolSlots) {
      taken += poolSlots;
    }

    long open() {
      return slots - taken;
    }

    boolean hasRoomFor(int poolSlots) {
      return slots == Pools.UNLIMITED || open() >= poolSlots;
    }
  }
}
