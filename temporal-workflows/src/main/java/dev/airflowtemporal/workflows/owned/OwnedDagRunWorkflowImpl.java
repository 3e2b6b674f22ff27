package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.dag.DagRunStateMachine;
import dev.airflowtemporal.core.dag.DagRunStep;
import dev.airflowtemporal.core.dag.InvalidDagException;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.SettledAttempt;
import dev.airflowtemporal.core.dag.TaskInstanceMark;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.dag.TaskState;
import dev.airflowtemporal.core.dag.TaskWait;
import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.core.wire.RunWait;
import dev.airflowtemporal.workflows.view.AttemptLog;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.worker.NonDeterministicException;
import io.temporal.workflow.Async;
import io.temporal.workflow.Workflow;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;

/**
 * Drives one Temporal-owned DagRun: turns what its {@link DagRunStateMachine} decides into activities,
 * timers and signals. Each {@link DagRunStep} is carried out in order — marks written, the run ended,
 * mapped tasks expanded or revised, ready tries queued (within pools, across all runs) and each queued
 * try run as a {@code run_owned_task} activity on its queue's task queue, then read back — and what
 * each step found goes back to the state machine, which holds every Airflow state rule. Database steps
 * are local activities: short, on this worker, one marker each in history.
 */
public class OwnedDagRunWorkflowImpl implements OwnedDagRunWorkflow {
  /** Leaves room below Temporal's 51,200-event limit for the tries still running at that point. */
  static final long CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
  static final Duration RUN_SLOT_RECHECK_FIRST = Duration.ofSeconds(1);
  static final Duration RUN_SLOT_RECHECK_MAX = Duration.ofSeconds(15);

  /** How long a DB step waits for Airflow's DB to come back before the run is failed. */
  static final Duration DB_OUTAGE_LIMIT = Duration.ofHours(1);
  /** The longest pause between two tries of a DB step while Airflow's DB is out of reach. */
  static final Duration DB_RETRY_MAX_INTERVAL = Duration.ofMinutes(1);
  /**
   * A local DB step retries in the worker's memory (its workflow task kept open by heartbeats, three
   * events each) only while the pause before its next try is below this; longer pauses are durable
   * timers, so an outage adds a few events per try and at most one try a minute (see docs/limits.md).
   */
  static final Duration DB_LOCAL_RETRY_THRESHOLD = Duration.ofSeconds(10);

  private static final Logger log = Workflow.getLogger(OwnedDagRunWorkflowImpl.class);
  /**
   * A DB that is down is waited for, up to {@link #DB_OUTAGE_LIMIT} (nothing is lost: every step is
   * idempotent); anything else fails the run visibly instead of looping. The activities mark their
   * failures retryable only when the DB was out of reach ({@link DatabaseFailures}); the types here
   * keep that true of a step that throws past them.
   */
  private static final RetryOptions DB_RETRIES = RetryOptions.newBuilder()
      .setInitialInterval(Duration.ofSeconds(1))
      .setMaximumInterval(DB_RETRY_MAX_INTERVAL)
      .setDoNotRetry(DagRunSyncActivities.REJECTED, DagRunSyncActivities.CLEARED,
          IllegalStateException.class.getName(), IllegalArgumentException.class.getName(),
          NullPointerException.class.getName(), ClassCastException.class.getName(),
          InvalidDagException.class.getName(), UncheckedIOException.class.getName())
      .build();

  /** The {@link Workflow#getVersion} change id under which runs follow their DAG's dagrun_timeout. */
  static final String DAGRUN_TIMEOUT_CHANGE = "dagrun-timeout";
  /** The {@link Workflow#getVersion} change id under which tasks with start_from_trigger start in Airflow's triggerer. */
  static final String START_FROM_TRIGGER_CHANGE = "start-from-trigger";

  private final long continueAsNewAfterEvents;

  public OwnedDagRunWorkflowImpl() {
    this(CONTINUE_AS_NEW_AFTER_EVENTS);
  }

  /** @param continueAsNewAfterEvents history length after which the workflow continues as new (tests lower it) */
  public OwnedDagRunWorkflowImpl(long continueAsNewAfterEvents) {
    this.continueAsNewAfterEvents = continueAsNewAfterEvents;
  }

  private final DagRunSyncActivities creator = Workflow.newActivityStub(DagRunSyncActivities.class,
      ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(5))
          .setScheduleToCloseTimeout(DB_OUTAGE_LIMIT).setRetryOptions(DB_RETRIES).build());
  private final DagRunSyncActivities db = Workflow.newLocalActivityStub(DagRunSyncActivities.class,
      LocalActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(1))
          .setScheduleToCloseTimeout(DB_OUTAGE_LIMIT).setLocalRetryThreshold(DB_LOCAL_RETRY_THRESHOLD)
          .setRetryOptions(DB_RETRIES).build());

  private OwnedDagRunRequest request;
  private String phase = "creating";
  private String error;
  private OwnedRun run;
  /** Every task instance of the run and what follows from each event; null until the run is created or read. */
  private DagRunStateMachine machine;
  /** The highest clear_number the sweep reported for the run; the run is read back while it is ahead. */
  private int clearSignalled;
  private boolean changed;
  /** A step that failed for good (a bug or a non-retryable DB error) inside a try's procedure. */
  private RuntimeException fatal;
  /** Whether this run follows its DAG's dagrun_timeout (not in histories recorded before it did). */
  private boolean followsTimeout;
  /** Whether tasks with start_from_trigger start in Airflow's triggerer (not in histories recorded before they did). */
  private boolean startsFromTriggers;
  private final AttemptLog attemptLog = new AttemptLog();

  @Override
  public String run(OwnedDagRunRequest request, OwnedDagRunCarry carried) {
    this.request = request;
    try {
      return drive(carried);
    } catch (RuntimeException e) {
      if (e instanceof NonDeterministicException
          || e instanceof ApplicationFailure refused && DagRunSyncActivities.REJECTED.equals(refused.getType())) {
        throw e;  // a deploy to roll back (the workflow task waits for it); a request refused before any write
      }
      throw failRun(e);
    }
  }

  /**
   * Whatever stops the workflow from driving its run — a bug (NPE, IllegalArgument, ClassCast, an
   * undecodable payload), a permanent DB error, a DB out of reach past {@link #DB_OUTAGE_LIMIT}, a
   * cancel — ends the run failed as "Mark run as failed" would (in a scope a cancel cannot stop),
   * with the reason in the worker's log, instead of leaving it running with no one to drive it.
   *
   * @return what the workflow fails with: a non-retryable failure naming the reason (a cancel stays one)
   */
  private RuntimeException failRun(RuntimeException cause) {
    phase = "failed";
    error = RunFailures.reason(cause);
    log.error("DagRun {} of {} cannot be driven any further; failing it: {}", request.runId(), request.dagId(),
        error, cause);
    Workflow.newDetachedCancellationScope(() -> {
      try {
        db.failDagRun(request.dagId(), request.runId(), error);
      } catch (ActivityFailure e) {
        log.error("Could not mark DagRun {} of {} failed either: {}", request.runId(), request.dagId(),
            RunFailures.reason(e));
      }
    }).run();
    return cause instanceof CanceledFailure ? cause
        : ApplicationFailure.newNonRetryableFailureWithCause(error, RunFailures.DAG_RUN_FAILED, cause);
  }

  private String drive(OwnedDagRunCarry carried) {
    // Runs recorded before dagrun_timeout was followed keep sleeping as they did (no deadline timer).
    followsTimeout = Workflow.getVersion(DAGRUN_TIMEOUT_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
    // Runs recorded before tasks started in the triggerer go on starting every task on a worker, as they did.
    startsFromTriggers = Workflow.getVersion(START_FROM_TRIGGER_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1;
    if (carried == null) {
      if (create() && !startQueuedRun()) {
        return phase;
      }
    } else if (carried.resumeCleared()) {
      // Started by the cleared-runs sweep (or continued while queued): take the run from queued to
      // running (or find that another starter did, and end), then go on from what Airflow's DB says.
      phase = "resuming";
      if (!startQueuedRun()) {
        return phase;
      }
    } else {
      run = carried.run();
      machine = newMachine(db.loadPlan(run.dagId(), run.dagVersionId()).unpack());
      machine.restore(carried.taskInstances());
    }
    phase = "running";
    runStarted();
    while (true) {
      if (fatal != null) {
        throw fatal;
      }
      try {
        if (clearSignalled > run.clearNumber()) {
          if (!readBack()) {
            return phase;
          }
          continue;
        }
        if (machine.timedOut(now())) {
          timeOut();
          return phase;
        }
        Step step = step();
        if (step == Step.FINISHED) {
          return phase;
        }
        if (step == Step.AGAIN) {
          continue;
        }
      } catch (ActivityFailure e) {
        // A write refused because Airflow cleared the run meanwhile: read it back, decide again.
        if (!(e.getCause() instanceof ApplicationFailure cause && DagRunSyncActivities.CLEARED.equals(cause.getType()))) {
          throw e;
        }
        if (!readBack()) {
          return phase;
        }
        continue;
      }
      changed = false;
      Duration wait = machine.untilNextTimer(now());
      if (wait == null) {
        Workflow.await(() -> changed);
      } else {
        Workflow.await(wait, () -> changed);
      }
    }
  }

  private enum Step { AGAIN, WAIT, FINISHED }

  /** One decision and what follows from it; AGAIN when states changed and the run is to be decided again. */
  private Step step() {
    DagRunStep step = machine.nextStep();
    if (!step.marks().isEmpty()) {
      db.markTasks(run, step.marks());
      machine.marked(step.marks());
    }
    if (step.runState().isPresent()) {
      finish(step.runState().get());
      return Step.FINISHED;
    }
    if (!step.expand().isEmpty()) {
      step.expand().forEach(this::expand);
      return Step.AGAIN;
    }
    if (!step.marks().isEmpty()) {
      return Step.AGAIN;
    }
    if (!step.revise().isEmpty()) {
      step.revise().forEach(this::reviseMapIndexes);
      return Step.AGAIN;
    }
    // Tries parked for Airflow to resume (deferred, awaiting_input): read back when the sweep signalled
    // or on their clock; one that left its parked state (resumed: scheduled) is decided again.
    List<TaskInstanceRef> parked = machine.parkedToRead(now());
    if (!parked.isEmpty() && machine.parkedRead(db.readTaskInstances(run, parked), now())) {
      return Step.AGAIN;
    }
    if (continueAsNewDue()) {
      if (machine.nothingInFlight()) {
        log.info("Continuing {} as new after {} history events", run.runId(), Workflow.getInfo().getHistoryLength());
        Workflow.continueAsNew(request, OwnedDagRunCarry.continuing(run, machine.carried()));
      }
    } else if (queue(step.ready())) {
      return Step.AGAIN;
    }
    return Step.WAIT;
  }

  /**
   * Airflow cleared the run since the workflow last read it: reads it back (tries in flight are
   * kept as they are; they settle when their runners end) and adopts what the DB says.
   *
   * @return false when the run ended outside the workflow (marked in the UI) or is gone: the
   *     workflow ends, once its tries in flight have
   */
  private boolean readBack() {
    ResumedDagRun current = db.resumeDagRun(run.dagId(), run.runId(), machine.inFlight());
    if (current.run() == null) {
      log.info("DagRun {} of {} is {} outside this workflow: ending once {} tries in flight end", run.runId(),
          run.dagId(), current.state(), machine.inFlight().size());
      Workflow.await(() -> machine.nothingInFlight() || fatal != null);
      phase = current.state();
      return false;
    }
    log.info("DagRun {} of {} was cleared in Airflow (clear_number {} -> {}): read back", run.runId(), run.dagId(),
        run.clearNumber(), current.run().clearNumber());
    adopt(current);
    runStarted();
    return true;
  }

  /** The dagrun_timeout runs from the run's start date as last read (a resumed run starts anew). */
  private void runStarted() {
    if (followsTimeout) {
      machine.runStarted(run.startDate());
    }
  }

  /**
   * The run exceeded its DAG's dagrun_timeout: failed as Airflow's scheduler fails it (unfinished task
   * instances skipped, a timed_out failure callback), then the workflow ends once its tries in flight have:
   * each runner's next Execution API heartbeat finds its task instance skipped and stops it.
   */
  private void timeOut() {
    log.info("DagRun {} of {} exceeded its dagrun_timeout of {}: failing it; {} tries in flight are stopped",
        run.runId(), run.dagId(), machine.plan().dagrunTimeout().orElseThrow(), machine.inFlight().size());
    db.timeOutDagRun(run);
    machine.timedOutRun();
    phase = TaskState.FAILED.airflowName();
    Workflow.await(() -> machine.nothingInFlight() || fatal != null);
    if (fatal != null) {
      throw fatal;
    }
  }

  /** Takes the run, its plan and the state of every task instance not in flight from a read-back. */
  private void adopt(ResumedDagRun current) {
    boolean samePlan = machine != null && run.dagVersionId().equals(current.run().dagVersionId());
    run = current.run();
    if (machine == null) {
      machine = newMachine(current.plan().unpack());
    } else if (!samePlan) {
      machine.replacePlan(current.plan().unpack());
    }
    machine.adopt(current.taskInstances(), now());
    clearSignalled = Math.min(clearSignalled, run.clearNumber());
  }

  /**
   * Airflow's {@code _revise_map_indexes_if_mapped} for a cleared mapped task about to run again: its
   * instances follow the length its upstreams recorded now, through the same idempotent expansion step.
   */
  private void reviseMapIndexes(String taskId) {
    int count = db.expandMappedTask(run, machine.task(taskId), machine.priorityWeight(taskId));
    machine.revised(taskId, count);
    if (count >= 0) {
      log.info("Revised cleared mapped task {}: {} task instances", taskId, count);
    }
  }

  @Override
  public void dagRunCleared(int clearNumber) {
    if (clearNumber > clearSignalled) {
      clearSignalled = clearNumber;
      changed = true;
    }
  }

  @Override
  public void taskInstancesResumed() {
    if (machine != null) {
      machine.resumeSignalled();
      changed = true;
    }
  }

  @Override
  public OwnedDagRunProgress progress() {
    Map<String, Integer> counts = machine == null ? Map.of() : machine.countsByState();
    List<String> running = machine == null ? List.of() : machine.triesInFlight();
    return new OwnedDagRunProgress(ContractVersion.CURRENT, request.dagId(), request.runId(), phase, error, counts, running);
  }

  @Override
  public RunView view() {
    List<RunWait> waits = new ArrayList<>();
    if ("queued".equals(phase)) {
      waits.add(new RunWait(null, -1, 0, "max_active_runs", null, "the DAG's max_active_runs are running"));
    }
    if (machine != null) {
      for (TaskWait wait : machine.waits(now())) {
        waits.add(new RunWait(wait.ref().taskId(), wait.ref().mapIndex(), wait.tryNumber(), wait.reason().wireName(),
            AttemptLog.at(wait.until()), wait.detail()));
      }
    }
    return new RunView(ContractVersion.CURRENT, RunView.OWNED, phase, error, attemptLog.attempts(),
        attemptLog.omitted(), waits);
  }

  /**
   * Takes the request's queued run to running as soon as the DAG's max_active_runs leave a slot, as
   * Airflow's scheduler starts queued runs, and adopts what Airflow's DB says of it.
   *
   * @return false when there is nothing to drive: the run ended (marked in the UI), is gone, or was
   *     started by another workflow
   */
  private boolean startQueuedRun() {
    Duration recheck = RUN_SLOT_RECHECK_FIRST;
    while (true) {
      ResumedDagRun resumed = db.resumeDagRun(request.dagId(), request.runId(), List.of());
      if (resumed.run() != null) {
        adopt(resumed);
        return true;
      }
      if (!"queued".equals(resumed.state())) {
        phase = resumed.state();
        log.info("DagRun {} of {} is {}: nothing to resume", request.runId(), request.dagId(), phase);
        return false;
      }
      if (!"queued".equals(phase)) {
        phase = "queued";
        log.info("DagRun {} of {} waits queued: the DAG's max_active_runs are running", request.runId(),
            request.dagId());
      }
      if (continueAsNewDue()) {
        Workflow.continueAsNew(request, OwnedDagRunCarry.clearedRun());
      }
      Workflow.sleep(recheck);
      Duration next = recheck.multipliedBy(2);
      recheck = next.compareTo(RUN_SLOT_RECHECK_MAX) > 0 ? RUN_SLOT_RECHECK_MAX : next;
    }
  }

  /** @return whether the run was created queued (the DAG's max_active_runs are running) */
  private boolean create() {
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
    machine = newMachine(created.plan().unpack());
    return created.queued();
  }

  private DagRunStateMachine newMachine(DagPlan plan) {
    DagRunStateMachine created = new DagRunStateMachine(run.dagId(), run.logicalDate(), plan);
    if (!startsFromTriggers) {
      created.startEveryTaskOnAWorker();
    }
    return created;
  }

  private ApplicationFailure reject(String reason) {
    phase = "rejected";
    error = reason;
    return ApplicationFailure.newNonRetryableFailure(reason, DagRunSyncActivities.REJECTED);
  }

  /** Replaces a mapped task's unexpanded instance by its map indexes (or skips it, for none). */
  private void expand(String taskId) {
    int count = db.expandMappedTask(run, machine.task(taskId), machine.priorityWeight(taskId));
    List<TaskInstanceMark> marks = machine.expanded(taskId, count);
    if (!marks.isEmpty()) {
      log.warn("{} cannot expand: an upstream it maps over recorded no length; marking it upstream_failed", taskId);
      db.markTasks(run, marks);
    }
    log.info("Expanded {} into {} task instances", taskId, Math.max(count, 0));
  }

  /**
   * Starts in Airflow's triggerer the tries the state machine defers at their start, queues what it asks for, and
   * runs each try queued.
   *
   * @return whether any task instance changed state (the caller decides again at once)
   */
  private boolean queue(List<TaskInstanceRef> ready) {
    Instant now = now();
    List<AttemptToDefer> toDefer = machine.attemptsToDefer(ready, now);
    List<AttemptToQueue> wanted = machine.attemptsToQueue(ready, now);
    if (toDefer.isEmpty() && wanted.isEmpty()) {
      return false;
    }
    List<QueueResult> results = new ArrayList<>();
    if (!toDefer.isEmpty()) {
      results.addAll(db.deferAttempts(run, toDefer));
    }
    if (!wanted.isEmpty()) {
      results.addAll(db.queueAttempts(run, wanted));
    }
    results.stream().filter(r -> r.outcome() == QueueResult.Outcome.NOT_QUEUEABLE).forEach(r ->
        // Someone else settled it first (a branch skipped it): take Airflow's word for it.
        log.info("{} is {} in Airflow's DB; not starting it", new TaskInstanceRef(r.taskId(), r.mapIndex()).label(),
            r.state().airflowName()));
    DagRunStateMachine.Queued queued = machine.queued(results, now);
    queued.toRun().forEach(result -> Async.procedure(this::runTryOrRecordFatal, result));
    return queued.statesChanged();
  }

  private void runTryOrRecordFatal(QueueResult queued) {
    try {
      runTry(queued);
    } catch (RuntimeException e) {
      fatal = e;
      changed = true;
    }
  }

  /** One try: its runner as an activity on the task's queue ({@link OwnedTaskTry}), then what Airflow's DB says of it. */
  private void runTry(QueueResult queued) {
    TaskPlan task = machine.task(queued.taskId());
    AttemptKey key = new AttemptKey(queued.taskId(), queued.mapIndex(), queued.tryNumber());
    attemptLog.started(key, task.queue());
    OwnedTaskTry.run(run, task, queued);
    SettledAttempt settled = db.settleAttempt(run, task.taskId(), queued.mapIndex(), queued.tryNumber(),
        queued.queuedAt(), task.retries());
    machine.settled(task, settled);
    attemptLog.ended(key, settled.state().airflowName(), null);
    changed = true;
  }

  private String finish(TaskState state) {
    db.finishDagRun(run, state.airflowName());
    phase = state.airflowName();
    log.info("DagRun {} of {} ended {}", run.runId(), run.dagId(), phase);
    return phase;
  }

  private boolean continueAsNewDue() {
    return Workflow.getInfo().getHistoryLength() > continueAsNewAfterEvents
        || Workflow.getInfo().isContinueAsNewSuggested();
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
