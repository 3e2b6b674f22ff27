package dev.airflowtemporal.workflows.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import dev.airflowtemporal.workflows.owned.DagRunSyncActivities;
import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * This worker's own meters ({@code airflow_temporal_*} once scraped): the one object the activities,
 * the runner bookkeeping and the worker command record into. Meter names are Micrometer's dotted
 * names; the Prometheus registry renders {@code airflow.temporal.attempts.started} as
 * {@code airflow_temporal_attempts_started_total}. With metrics off it records into a registry that
 * keeps nothing.
 */
public final class WorkerMetrics {
  /** The queue label of attempts a workflow claimed back on this process's own task queue. */
  public static final String REATTACH_QUEUE = "reattach";

  private static final Set<String> DB_FAILURE_TYPES = Set.of(DagRunSyncActivities.DATABASE_UNAVAILABLE,
      DagRunSyncActivities.REJECTED, DagRunSyncActivities.CLEARED);

  private final MeterRegistry registry;
  private final String baseTaskQueue;
  private final Map<String, AtomicInteger> runningByQueue = new ConcurrentHashMap<>();

  /** @param baseTaskQueue the worker's {@code --task-queue}, to name the Airflow queue of an activity's task queue */
  public WorkerMetrics(MeterRegistry registry, String baseTaskQueue) {
    this.registry = registry;
    this.baseTaskQueue = baseTaskQueue;
  }

  /** Metrics off: every meter is a no-op. */
  public static WorkerMetrics none() {
    return new WorkerMetrics(new CompositeMeterRegistry(), "");
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** How an attempt this process ran ended, the {@code outcome} label of finished attempts. */
  public enum Outcome {
    /** The runner exited 0. */
    success,
    /** The runner exited non-zero. */
    failed,
    /** No runner could be started (bad --python, unwritable workload file, no Execution API token). */
    not_started,
    /** Cancelled, reset or the worker stopped: the runner was killed. */
    stopped,
    /** Temporal lost the execution or another execution claimed the runner: someone else reports it. */
    handed_off
  }

  /**
   * The Airflow queue served on a Temporal task queue: {@code default} on the base task queue,
   * {@code Q} on {@code <base>:Q}, {@link #REATTACH_QUEUE} on this process's own queue.
   */
  public String airflowQueue(String taskQueue) {
    if (taskQueue.equals(baseTaskQueue)) {
      return "default";
    }
    if (taskQueue.startsWith(baseTaskQueue + ":")) {
      return taskQueue.substring(baseTaskQueue.length() + 1);
    }
    return REATTACH_QUEUE;
  }

  /**
   * An attempt starts on {@code queue} (an Airflow queue, see {@link #airflowQueue}); pair it with
   * {@link Attempt#finished}.
   *
   * @param kind {@code task} (executor mode), {@code owned_task} (Temporal-owned) or {@code workload}
   *     (a callback or connection test)
   */
  public Attempt attemptStarted(String queue, String kind) {
    Counter.builder("airflow.temporal.attempts.started")
        .description("Task attempts (and executor workloads) this worker started running")
        .tags("queue", queue, "kind", kind)
        .register(registry).increment();
    running(queue).incrementAndGet();
    return new Attempt(queue, kind);
  }

  /** One attempt between {@link #attemptStarted} and its end. */
  public final class Attempt {
    private final String queue;
    private final String kind;

    private Attempt(String queue, String kind) {
      this.queue = queue;
      this.kind = kind;
    }

    public void finished(Outcome outcome) {
      running(queue).decrementAndGet();
      Counter.builder("airflow.temporal.attempts.finished")
          .description("Task attempts (and executor workloads) this worker stopped running, by outcome")
          .tags("queue", queue, "kind", kind, "outcome", outcome.name())
          .register(registry).increment();
    }
  }

  /**
   * The free attempt slots of an Airflow queue this worker serves: {@code maxConcurrent} less the
   * attempts of that queue running now.
   */
  public void slots(String queue, int maxConcurrent) {
    AtomicInteger running = running(queue);
    Gauge.builder("airflow.temporal.slots.free", running, r -> maxConcurrent - r.get())
        .description("Attempts this worker may still start on the queue (--max-concurrent-tasks less those running)")
        .tag("queue", queue)
        .register(registry);
  }

  /** A runner is running: how long from the activity's start until its process existed. */
  public void runnerStarted(String how, Duration latency) {
    Timer.builder("airflow.temporal.runner.start")
        .description("Time from an attempt's activity start to its runner process running, by how it was started")
        .tag("how", how)
        .register(registry).record(latency);
  }

  /** The runners this process started and has not reported yet. */
  public void runnersAlive(Supplier<Number> count) {
    Gauge.builder("airflow.temporal.runners.alive", count)
        .description("Runner processes this worker started and has not reported yet (kept orphans included)")
        .register(registry);
  }

  /** Temporal-owned runs in progress cluster-wide, as last counted (NaN before the first count). */
  public void ownedRunsInProgress(Supplier<Number> count) {
    Gauge.builder("airflow.temporal.owned.runs.in.progress", count)
        .description("OwnedDagRun workflows running in the namespace (the same on every worker)")
        .register(registry);
  }

  /** One cleared-runs sweep, with what it did. */
  public void clearedRunsSweep(int resumed, int signalled, int failed) {
    Counter.builder("airflow.temporal.cleared.runs.sweeps").description("Cleared-runs sweeps run by this worker")
        .register(registry).increment();
    Counter.builder("airflow.temporal.cleared.runs.handled")
        .description("Cleared Temporal-owned runs the sweeps resumed, signalled, or failed to hand to Temporal")
        .tag("action", "resumed").register(registry).increment(resumed);
    Counter.builder("airflow.temporal.cleared.runs.handled")
        .tag("action", "signalled").register(registry).increment(signalled);
    Counter.builder("airflow.temporal.cleared.runs.handled")
        .tag("action", "failed").register(registry).increment(failed);
  }

  /**
   * {@code activities} with every call timed as {@code airflow.temporal.db.activity} by activity
   * method and outcome ({@code ok}, or the failure's Temporal type: {@code DatabaseUnavailable},
   * {@code DagRunRejected}, {@code DagRunCleared}; {@code error} for any other), and each failure
   * counted as {@code airflow.temporal.db.activity.errors}.
   */
  public <T> T timedDatabaseActivities(Class<T> type, T activities) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
      if (method.getDeclaringClass() == Object.class) {
        return method.invoke(activities, args);
      }
      long start = System.nanoTime();
      String outcome = "ok";
      try {
        return method.invoke(activities, args);
      } catch (InvocationTargetException e) {
        outcome = e.getCause() instanceof ApplicationFailure failure && DB_FAILURE_TYPES.contains(failure.getType())
            ? failure.getType() : "error";
        Counter.builder("airflow.temporal.db.activity.errors")
            .description("Failed DB activities of Temporal-owned runs and the worker's sweeps, by failure type")
            .tags("activity", method.getName(), "type", outcome)
            .register(registry).increment();
        throw e.getCause();
      } finally {
        Timer.builder("airflow.temporal.db.activity")
            .description("Time of the activities that read and write Airflow's DB, by outcome")
            .tags("activity", method.getName(), "outcome", outcome)
            .register(registry).record(Duration.ofNanos(System.nanoTime() - start));
      }
    }));
  }

  private AtomicInteger running(String queue) {
    return runningByQueue.computeIfAbsent(queue, q -> new AtomicInteger());
  }
}
