package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.dag.DagRunDecider;
import dev.airflowtemporal.core.dag.DagRunDecisions;
import dev.airflowtemporal.core.dag.RetryDelays;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.dag.TaskState;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;

/**
 * Drives one Temporal-owned DagRun. The loop asks {@link DagRunDecider} what Airflow's scheduler
 * would do, writes the marks it makes, queues ready tasks (in priority order, within the DAG's
 * max_active_tasks and the pools' open slots across all runs), and runs each queued try as a
 * {@code run_owned_task} activity on its queue's task queue. After each try it reads back what the
 * runner wrote through Airflow's Execution API (success, failed, up_for_retry, skips of branches)
 * and decides again; retries wait Airflow's own delay. Database steps are local activities: short,
 * on this worker, one marker each in history.
 */
public class OwnedDagRunWorkflowImpl implements OwnedDagRunWorkflow {
  /** Leaves room below Temporal's 51,200-event limit for the tries still running at that point. */
  static final long CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
  /** A silent worker for this long is presumed lost; its try is then failed (and retried if it may). */
  static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(30);
  /** Bounds a try without an execution_timeout; the runner's own limit is the real one. */
  static final Duration TRY_WITHOUT_TIMEOUT_LIMIT = Duration.ofDays(7);
  /** Time the runner gets past execution_timeout to fail the task itself before it is killed. */
  static final Duration EXECUTION_TIMEOUT_GRACE = Duration.ofSeconds(60);
  static final Duration POOL_RECHECK_FIRST = Duration.ofSeconds(1);
  static final Duration POOL_RECHECK_MAX = Duration.ofSeconds(15);

  private static final Logger log = Workflow.getLogger(OwnedDagRunWorkflowImpl.class);
  /**
   * A DB that is down is waited for (nothing is lost: every step is idempotent); a bug is not retried,
   * so it fails the run visibly instead of looping.
   */
  private static final RetryOptions DB_RETRIES = RetryOptions.newBuilder()
      .setInitialInterval(Duration.ofSeconds(1))
      .setMaximumInterval(Duration.ofSeconds(30))
      .setDoNotRetry(DagRunSyncActivities.REJECTED, IllegalStateException.class.getName(),
          IllegalArgumentException.class.getName(), NullPointerException.class.getName())
      .build();

  private final long continueAsNewAfterEvents;

  public OwnedDagRunWorkflowImpl() {
    this(CONTINUE_AS_NEW_AFTER_EVENTS);
  }

  /** @param continueAsNewAfterEvents history length after which the workflow continues as new (tests lower it) */
  public OwnedDagRunWorkflowImpl(long continueAsNewAfterEvents) {
    this.continueAsNewAfterEvents = continueAsNewAfterEvents;
  }

  private final DagRunSyncActivities creator = Workflow.newActivityStub(DagRunSyncActivities.class,
      ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(5)).setRetryOptions(DB_RETRIES).build());
  private final DagRunSyncActivities db = Workflow.newLocalActivityStub(DagRunSyncActivities.class,
      LocalActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(1)).setRetryOptions(DB_RETRIES).build());

  private OwnedDagRunRequest request;
  private String phase = "creating";
  private String error;
  private OwnedRun run;
  private DagPlan plan;
  /** Plan order, so that every iteration over tasks is the same on replay. */
  private final Map<String, TaskProgress> tasks = new LinkedHashMap<>();
  private final Set<String> inFlight = new LinkedHashSet<>();
  private final Map<String, Instant> poolRecheckAt = new TreeMap<>();
  private final Map<String, Duration> poolBackoff = new TreeMap<>();
  private boolean changed;
  /** A step that failed for good (a bug or a non-retryable DB error) inside a try's procedure. */
  private RuntimeException fatal;

  @Override
  public String run(OwnedDagRunRequest request, OwnedDagRunCarry carried) {
    this.request = request;
    try {
      return drive(carried);
    } catch (ActivityFailure e) {
      // A DB step failed for good: end the run failed (if the DB lets us) rather than leave it wedged.
      phase = "failed";
      error = "a step of the run failed and cannot be retried: " + String.valueOf(e.getCause().getMessage());
      if (run != null) {
        try {
          db.finishDagRun(run, TaskState.FAILED.airflowName());
        } catch (ActivityFailure ignored) {
          log.error("Could not mark DagRun {} failed either", run.runId());
        }
      }
      throw ApplicationFailure.newNonRetryableFailureWithCause(error, "DagRunFailed", e);
    }
  }

  private String drive(OwnedDagRunCarry carried) {
    if (carried == null) {
      create();
    } else {
      run = carried.run();
      plan = db.loadPlan(run.dagId(), run.dagVersionId());
      plan.tasks().forEach(t -> tasks.put(t.taskId(), carried.tasks().getOrDefault(t.taskId(), TaskProgress.NOT_STARTED)));
    }
    phase = "running";
    DagRunDecider decider = new DagRunDecider(plan);
    while (true) {
      if (fatal != null) {
        throw fatal;
      }
      DagRunDecisions decisions = decider.decide(states());
      if (!decisions.mark().isEmpty()) {
        Map<String, String> marks = new LinkedHashMap<>();
        decisions.mark().forEach((taskId, state) -> marks.put(taskId, state.airflowName()));
        db.markTasks(run, marks);
        decisions.mark().forEach((taskId, state) -> tasks.put(taskId, new TaskProgress(state, tasks.get(taskId).tryNumber(), null)));
      }
      if (decisions.runState().isPresent()) {
        return finish(decisions.runState().get());
      }
      if (continueAsNewDue()) {
        if (inFlight.isEmpty()) {
          log.info("Continuing {} as new after {} history events", run.runId(), Workflow.getInfo().getHistoryLength());
          Workflow.continueAsNew(request, new OwnedDagRunCarry(run, new LinkedHashMap<>(tasks)));
        }
      } else if (queueReadyTasks(decisions.start())) {
        continue;
      }
      changed = false;
      Duration wait = untilNextTimer();
      if (wait == null) {
        Workflow.await(() -> changed);
      } else {
        Workflow.await(wait, () -> changed);
      }
    }
  }

  @Override
  public OwnedDagRunProgress progress() {
    Map<String, Integer> counts = new TreeMap<>();
    tasks.values().forEach(p -> counts.merge(p.state().airflowName(), 1, Integer::sum));
    List<String> running = inFlight.stream().map(id -> id + " try " + tasks.get(id).tryNumber()).toList();
    return new OwnedDagRunProgress(ContractVersion.CURRENT, request.dagId(), request.runId(), phase, error, counts, running);
  }

  private void create() {
    List<String> problems = request.problems();
    if (!problems.isEmpty()) {
      throw reject(String.join("; ", problems));
    }
    CreatedDagRun created;
    try {
      created = creator.createDagRun(request);
    } catch (ActivityFailure e) {
      if (e.getCause() instanceof ApplicationFailure cause && DagRunSyncActivities.REJECTED.equals(cause.getType())) {
        throw reject(cause.getOriginalMessage());
      }
      throw e;
    }
    run = created.run();
    plan = created.plan();
    plan.tasks().forEach(t -> tasks.put(t.taskId(), TaskProgress.NOT_STARTED));
  }

  private ApplicationFailure reject(String reason) {
    phase = "rejected";
    error = reason;
    return ApplicationFailure.newNonRetryableFailure(reason, DagRunSyncActivities.REJECTED);
  }

  /** @return whether any task changed state (the caller decides again at once) */
  private boolean queueReadyTasks(List<String> newlyReady) {
    Instant now = now();
    List<AttemptToQueue> wanted = new ArrayList<>();
    // Tries due for a retry go first: Airflow's scheduler treats them as ready as any other task.
    tasks.forEach((taskId, progress) -> {
      if (progress.state() == TaskState.UP_FOR_RETRY && !progress.retryAt().isAfter(now)) {
        wanted.add(new AttemptToQueue(taskId, -1, progress.tryNumber() + 1));
      }
    });
    newlyReady.forEach(taskId -> wanted.add(new AttemptToQueue(taskId, -1, tasks.get(taskId).tryNumber() + 1)));
    wanted.removeIf(a -> poolRecheckAt.containsKey(a.taskId()) && poolRecheckAt.get(a.taskId()).isAfter(now));
    int capacity = plan.maxActiveTasks() - inFlight.size();
    if (wanted.isEmpty() || capacity <= 0) {
      return false;
    }
    List<QueueResult> results = db.queueAttempts(run, wanted.subList(0, Math.min(capacity, wanted.size())));
    boolean anyChanged = false;
    for (QueueResult result : results) {
      switch (result.outcome()) {
        case QUEUED -> {
          anyChanged = true;
          poolRecheckAt.remove(result.taskId());
          poolBackoff.remove(result.taskId());
          tasks.put(result.taskId(), new TaskProgress(TaskState.QUEUED, result.tryNumber(), null));
          inFlight.add(result.taskId());
          Async.procedure(this::runTryOrRecordFatal, result);
        }
        case NOT_QUEUEABLE -> {
          // Someone else settled it first (a branch skipped it): take Airflow's word for it.
          log.info("{} is {} in Airflow's DB; not starting it", result.taskId(), result.state().airflowName());
          tasks.put(result.taskId(), new TaskProgress(result.state(), result.tryNumber(), null));
          anyChanged = true;
        }
        case POOL_FULL -> {
          // As Airflow's scheduler: wait for a slot (an admin may also enlarge the pool), checking ever less often.
          Duration backoff = poolBackoff.getOrDefault(result.taskId(), POOL_RECHECK_FIRST);
          poolRecheckAt.put(result.taskId(), now.plus(backoff));
          Duration next = backoff.multipliedBy(2);
          poolBackoff.put(result.taskId(), next.compareTo(POOL_RECHECK_MAX) > 0 ? POOL_RECHECK_MAX : next);
        }
      }
    }
    return anyChanged;
  }

  private void runTryOrRecordFatal(QueueResult queued) {
    try {
      runTry(queued);
    } catch (RuntimeException e) {
      fatal = e;
      changed = true;
    }
  }

  /** One try: its runner as an activity on the task's queue, then what Airflow's DB says of it. */
  private void runTry(QueueResult queued) {
    TaskPlan task = plan.task(queued.taskId());
    String label = task.taskId() + " try " + queued.tryNumber();
    TaskActivities runner = Workflow.newActivityStub(TaskActivities.class, ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.forAirflowQueue(Workflow.getInfo().getTaskQueue(),
            DagRunWorker.DEFAULT_QUEUE.equals(task.queue()) ? null : task.queue()))
        .setStartToCloseTimeout(task.executionTimeout().map(t -> t.plus(EXECUTION_TIMEOUT_GRACE)).orElse(TRY_WITHOUT_TIMEOUT_LIMIT))
        .setHeartbeatTimeout(HEARTBEAT_TIMEOUT)
        // Airflow's retries are the workflow's: a second activity attempt would find the TI no longer queued.
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .setSummary(label)
        .build());
    OwnedTaskWorkload workload = new OwnedTaskWorkload(ContractVersion.CURRENT,
        new OwnedTaskWorkload.TaskInstance(queued.taskInstanceId(), run.dagVersionId(), task.taskId(), run.dagId(),
            run.runId(), queued.tryNumber(), queued.mapIndex(), task.poolSlots(), task.queue(), task.priorityWeight()),
        run.dagRelPath(), new OwnedTaskWorkload.BundleInfo(run.bundleName(), run.bundleVersion()));
    try {
      TaskAttemptResult result = runner.runOwnedTask(workload);
      if (!result.succeeded()) {
        log.warn("{}: {}", label, result.reason());
      }
    } catch (ActivityFailure e) {
      log.warn("{}: {}", label, e.getCause() instanceof TimeoutFailure t
          ? "timed out (" + t.getTimeoutType() + ")" : String.valueOf(e.getCause().getMessage()));
    }
    boolean retryable = task.retries() > 0 && queued.tryNumber() <= task.retries();
    SettledAttempt settled = db.settleAttempt(run, task.taskId(), queued.mapIndex(), queued.tryNumber(),
        queued.queuedAt(), retryable);
    Instant retryAt = settled.state() == TaskState.UP_FOR_RETRY
        ? RetryDelays.nextRetryAt(run.dagId(), task, run.logicalDate(), settled.tryNumber(), settled.endDate(),
            settled.retryDelayOverrideSeconds())
        : null;
    tasks.put(task.taskId(), new TaskProgress(settled.state(), settled.tryNumber(), retryAt));
    for (String skipped : settled.skippedTaskIds()) {
      TaskProgress progress = tasks.get(skipped);
      if (progress != null && progress.state() == TaskState.NONE) {
        tasks.put(skipped, new TaskProgress(TaskState.SKIPPED, progress.tryNumber(), null));
      }
    }
    inFlight.remove(task.taskId());
    changed = true;
  }

  private String finish(TaskState state) {
    db.finishDagRun(run, state.airflowName());
    phase = state.airflowName();
    log.info("DagRun {} of {} ended {}", run.runId(), run.dagId(), phase);
    return phase;
  }

  private Map<String, TaskState> states() {
    Map<String, TaskState> states = new LinkedHashMap<>();
    tasks.forEach((taskId, progress) -> states.put(taskId, progress.state()));
    return states;
  }

  private boolean continueAsNewDue() {
    return Workflow.getInfo().getHistoryLength() > continueAsNewAfterEvents
        || Workflow.getInfo().isContinueAsNewSuggested();
  }

  /** Until the earliest retry or pool recheck, or null when nothing waits on a clock. */
  private Duration untilNextTimer() {
    Instant next = null;
    for (TaskProgress progress : tasks.values()) {
      if (progress.state() == TaskState.UP_FOR_RETRY && (next == null || progress.retryAt().isBefore(next))) {
        next = progress.retryAt();
      }
    }
    for (Instant recheck : poolRecheckAt.values()) {
      if (next == null || recheck.isBefore(next)) {
        next = recheck;
      }
    }
    if (next == null) {
      return null;
    }
    Duration wait = Duration.between(now(), next);
    return wait.isNegative() || wait.isZero() ? Duration.ofMillis(1) : wait;
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
