package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.AttemptView;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.DagRunProgress;
import dev.airflowtemporal.core.wire.DagRunWorkflowInput;
import dev.airflowtemporal.core.wire.OutcomeState;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.core.wire.TaskCancellation;
import dev.airflowtemporal.core.wire.TaskOutcome;
import dev.airflowtemporal.core.wire.TaskSubmission;
import dev.airflowtemporal.workflows.task.RunnerReattach;
import dev.airflowtemporal.workflows.task.RunnerWhereabouts;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttempt;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import dev.airflowtemporal.workflows.view.AttemptLog;
import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInfo;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;

/**
 * Executor mode: every submitted attempt becomes one {@code run_task} activity on the task queue its
 * Airflow queue maps to. Outcomes are kept until the executor acknowledges them; the workflow
 * completes once nothing runs, everything is acknowledged and no submission came for the idle
 * timeout. A task cleared later simply starts the workflow again (signal-with-start).
 */
public class DagRunWorkflowImpl implements DagRunWorkflow {
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
  /** Leaves room below Temporal's 51,200-event limit for the attempts still running at that point. */
  static final long DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
  /** Airflow's own execution_timeout is enforced by the runner; this only bounds a wedged attempt. */
  static final Duration ATTEMPT_START_TO_CLOSE = Duration.ofDays(7);

  /**
   * Change id of telling queueings of one try apart by their external executor id: a new queueing of a
   * try whose earlier one ended (outcome not yet acknowledged) or still runs is accepted, and starts once
   * the earlier one has ended, where earlier histories took it for a repeat.
   */
  static final String QUEUEING_IDENTITY = "queueing-identity";

  private static final Logger log = Workflow.getLogger(DagRunWorkflowImpl.class);

  private final List<TaskSubmission> inbox = new ArrayList<>();
  private final Map<AttemptKey, CancellationScope> running = new LinkedHashMap<>();
  /** Revoked attempts: Airflow may hand the same attempt back (a task requeued after being stuck in queued). */
  private final Set<AttemptKey> revoked = new HashSet<>();
  /**
   * The {@code external_executor_id} of the queueing each running (not revoked) attempt serves; its
   * outcome carries it on. Null for submissions from executors without one. A waiting submission carries
   * its own.
   */
  private final Map<AttemptKey, String> runningIds = new LinkedHashMap<>();
  private final List<TaskOutcome> unacknowledged = new ArrayList<>();
  private long lastSeq;
  private long acknowledgedSeq;
  private final AttemptLog attemptLog = new AttemptLog();

  @Override
  public void run(DagRunWorkflowInput input) {
    validate(input);
    if (input.carriedSubmissions() != null) {
      inbox.addAll(input.carriedSubmissions());
    }
    if (input.carriedOutcomes() != null) {
      unacknowledged.addAll(input.carriedOutcomes());
    }
    acknowledgedSeq = input.carriedAcknowledgedSeq() == null ? 0 : input.carriedAcknowledgedSeq();
    lastSeq = unacknowledged.stream().mapToLong(TaskOutcome::seq).max().orElse(acknowledgedSeq);
    Duration idleTimeout = input.idleTimeoutSeconds() == null
        ? DEFAULT_IDLE_TIMEOUT
        : Duration.ofSeconds(input.idleTimeoutSeconds());
    long historyLimit = input.continueAsNewAfterEvents() == null
        ? DEFAULT_CONTINUE_AS_NEW_AFTER_EVENTS
        : input.continueAsNewAfterEvents();

    while (true) {
      Workflow.await(() -> (hasStartable() && !historyFull(historyLimit)) || running.isEmpty());
      if (!historyFull(historyLimit)) {
        startStartable(input);
      }
      if (!running.isEmpty()) {
        continue;
      }
      if (historyFull(historyLimit)) {
        // Attempts cannot move to a new run, so new ones waited above until the running ones ended.
        Workflow.continueAsNew(new DagRunWorkflowInput(ContractVersion.CURRENT, input.dagId(), input.runId(),
            input.idleTimeoutSeconds(), input.continueAsNewAfterEvents(), List.copyOf(inbox),
            List.copyOf(unacknowledged), acknowledgedSeq));
      }
      boolean submitted = Workflow.await(idleTimeout, () -> !inbox.isEmpty());
      if (!submitted && acknowledgedSeq >= lastSeq) {
        return;
      }
    }
  }

  /** Starts every submission whose attempt is not running; one handed back after a revoke waits for its cancelled activity. */
  private void startStartable(DagRunWorkflowInput input) {
    for (Iterator<TaskSubmission> it = inbox.iterator(); it.hasNext(); ) {
      TaskSubmission submission = it.next();
      if (!running.containsKey(submission.attempt())) {
        it.remove();
        start(input, submission);
      }
    }
  }

  private static boolean historyFull(long historyLimit) {
    WorkflowInfo info = Workflow.getInfo();
    return info.isContinueAsNewSuggested() || info.getHistoryLength() >= historyLimit;
  }

  @Override
  public void submitTask(TaskSubmission submission) {
    AttemptKey key = submission.attempt();
    List<String> problems = submission.problems();
    if (!problems.isEmpty()) {
      log.error("Rejected task submission {}: {}", key, problems);
      if (key != null && key.taskId() != null) {
        record(key, submission.externalExecutorId(), OutcomeState.FAILED, null,
            "rejected by the worker: " + String.join("; ", problems), "");
      }
      return;
    }
    String externalId = submission.externalExecutorId();
    if (revoked.remove(key)) {
      log.info("Accepting {} again after it was revoked", key.label());
    } else if (externalId != null && heldExternalIds().anyMatch(externalId::equals)) {
      // Signals are delivered at least once from the executor's point of view (it retries after a
      // timeout that may have hidden a success): the same queueing handed over again must not start twice.
      log.info("Ignoring repeated submission of {} (external executor id {})", key.label(), externalId);
      return;
    } else if (externalId == null) {
      // An executor without ids: only the attempt key can tell a repeat.
      if (running.containsKey(key) || waiting(key)
          || unacknowledged.stream().anyMatch(o -> o.attempt().equals(key))) {
        log.info("Ignoring repeated submission of {}", key.label());
        return;
      }
    } else if (waiting(key)) {
      // Queued again under a new id before the waiting one started: it serves Airflow's latest queueing.
      log.info("{} waiting to start is queued again as {}", key.label(), externalId);
      inbox.replaceAll(waiting -> waiting.attempt().equals(key) ? submission : waiting);
      return;
    } else if (running.containsKey(key) && isNewQueueingOfSameTry()) {
      // A new queueing of a try whose runner has not ended yet (a reschedule sensor's or a deferred task's
      // runner still exiting, or one a lost revoke did not stop: its next Execution API heartbeat gets 409).
      // It waits for that one to end; the executor takes the earlier one's outcome for stale.
      log.info("{} queued again as {} while its previous queueing runs; it starts once that one ends", key.label(),
          externalId);
    } else if (running.containsKey(key)) {
      log.info("{} queued again as {} while in flight; it keeps running under the new id", key.label(), externalId);
      runningIds.put(key, externalId);
      return;
    } else if (unacknowledged.stream().anyMatch(o -> o.attempt().equals(key)) && !isNewQueueingOfSameTry()) {
      log.info("Ignoring repeated submission of {} (external executor id {})", key.label(), externalId);
      return;
    }
    inbox.add(submission);
  }

  /**
   * Whether a new external executor id for a try already held makes a new queueing of it (a sensor in
   * reschedule mode pokes, and a deferred task resumes, at the same try number, each queued under a fresh
   * id); false while replaying a history recorded before, which took it for a repeat.
   */
  private static boolean isNewQueueingOfSameTry() {
    return Workflow.getVersion(QUEUEING_IDENTITY, Workflow.DEFAULT_VERSION, 1) >= 1;
  }

  private boolean waiting(AttemptKey key) {
    return inbox.stream().anyMatch(s -> s.attempt().equals(key));
  }

  /** The external executor ids of the attempts waiting, running, or with an unacknowledged outcome. */
  private Stream<String> heldExternalIds() {
    return Stream.of(inbox.stream().map(TaskSubmission::externalExecutorId), runningIds.values().stream(),
            unacknowledged.stream().map(TaskOutcome::externalExecutorId))
        .flatMap(ids -> ids)
        .filter(Objects::nonNull);
  }

  @Override
  public void cancelTask(TaskCancellation cancellation) {
    revoked.add(cancellation.attempt());
    // A revoked attempt reports no outcome; Airflow queues it again, if at all, under a new id.
    runningIds.remove(cancellation.attempt());
    CancellationScope scope = running.get(cancellation.attempt());
    if (scope != null) {
      log.info("Cancelling {}: {}", cancellation.attempt().label(), cancellation.reason());
      scope.cancel(cancellation.reason());
    }
    inbox.removeIf(s -> s.attempt().equals(cancellation.attempt()));
  }

  @Override
  public void acknowledgeOutcomes(long upToSeq) {
    acknowledgedSeq = Math.max(acknowledgedSeq, upToSeq);
    unacknowledged.removeIf(o -> o.seq() <= acknowledgedSeq);
  }

  @Override
  public DagRunProgress progress(long afterSeq) {
    return new DagRunProgress(
        List.copyOf(running.keySet()),
        unacknowledged.stream().filter(o -> o.seq() > afterSeq).toList(),
        lastSeq,
        heldExternalIds().toList());
  }

  @Override
  public RunView view() {
    List<AttemptView> attempts = new ArrayList<>(attemptLog.attempts());
    inbox.forEach(s -> attempts.add(new AttemptView(s.attempt().taskId(), s.attempt().mapIndex(),
        s.attempt().tryNumber(), "waiting", s.queue(), null, null, null)));
    String phase = running.isEmpty() && inbox.isEmpty() ? "idle" : "running";
    return new RunView(ContractVersion.CURRENT, RunView.EXECUTOR, phase, null, attempts, attemptLog.omitted(), List.of());
  }

  private void start(DagRunWorkflowInput input, TaskSubmission submission) {
    AttemptKey key = submission.attempt();
    String taskQueue = TaskQueues.forAirflowQueue(Workflow.getInfo().getTaskQueue(), submission.queue());
    TaskActivities activities = Workflow.newActivityStub(TaskActivities.class, ActivityOptions.newBuilder()
        .setTaskQueue(taskQueue)
        .setStartToCloseTimeout(ATTEMPT_START_TO_CLOSE)
        .setHeartbeatTimeout(RunnerReattach.HEARTBEAT_TIMEOUT)
        // Airflow owns retries: a second activity attempt would hit a TI that is no longer QUEUED.
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setSummary(key.label())
        .build());
    TaskAttempt attempt = new TaskAttempt(input.dagId(), input.runId(), key, submission.workload());
    runningIds.put(key, submission.externalExecutorId());
    attemptLog.started(key, submission.queue());
    watch(key, () -> Async.function(activities::runTask, attempt));
  }

  /**
   * Runs the attempt's activity in a cancellation scope of its own (a revoke cancels it) and records
   * its outcome; if the activity timed out on its heartbeat while its runner may still live, asks
   * the runner's worker process for it instead, in a new scope.
   */
  private void watch(AttemptKey key, Supplier<Promise<TaskAttemptResult>> activity) {
    CancellationScope[] scope = new CancellationScope[1];
    scope[0] = Workflow.newCancellationScope(() ->
        activity.get().handle((result, failure) -> {
          running.remove(key, scope[0]);
          if (scope[0].isCancelRequested()) {
            // Revoked: Airflow's revoke_task contract is that no event is reported for it.
            log.info("Revoked attempt {} has ended", key.label());
            attemptLog.ended(key, "revoked", null);
            return null;
          }
          if (failure != null) {
            Optional<RunnerWhereabouts> lost = RunnerReattach.lostRunner(failure);
            if (lost.isPresent()) {
              log.warn("{}: its activity timed out on its heartbeat; asking worker process {} for its runner",
                  key.label(), lost.get().reattachQueue());
              TaskActivities reattach = RunnerReattach.stub(lost.get(), ATTEMPT_START_TO_CLOSE,
                  RunnerReattach.HEARTBEAT_TIMEOUT, key.label());
              watch(key, () -> Async.function(reattach::reattachTask, lost.get()));
              return null;
            }
          }
          if (failure == null) {
            record(key, result.succeeded() ? OutcomeState.SUCCESS : OutcomeState.FAILED,
                result.exitCode(), result.reason(), result.outputTail());
          } else {
            record(key, OutcomeState.FAILED, null, describe(failure), "");
          }
          return null;
        }));
    running.put(key, scope[0]);
    scope[0].run();
  }

  private void record(AttemptKey key, OutcomeState state, Integer exitCode, String reason, String outputTail) {
    record(key, runningIds.remove(key), state, exitCode, reason, outputTail);
  }

  private void record(AttemptKey key, String externalExecutorId, OutcomeState state, Integer exitCode, String reason,
      String outputTail) {
    lastSeq++;
    OffsetDateTime now = OffsetDateTime.ofInstant(Instant.ofEpochMilli(Workflow.currentTimeMillis()), ZoneOffset.UTC);
    unacknowledged.add(new TaskOutcome(lastSeq, key, state, exitCode, reason, outputTail, now, externalExecutorId));
    // The runner's end, not the task's: the task's own state is what its runner wrote to Airflow.
    attemptLog.ended(key, state == OutcomeState.SUCCESS ? "finished" : "failed", reason);
  }

  private boolean hasStartable() {
    return inbox.stream().anyMatch(s -> !running.containsKey(s.attempt()));
  }

  static String describe(RuntimeException failure) {
    Throwable cause = failure instanceof ActivityFailure ? failure.getCause() : failure;
    if (cause instanceof TimeoutFailure timeout) {
      return timeout.getTimeoutType() == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START
          ? "worker lost: the worker process that ran its runner did not answer within "
              + RunnerReattach.PICKUP_TIMEOUT.toSeconds() + " s of its heartbeat timeout"
          : "worker lost: activity " + timeout.getTimeoutType() + " timed out";
    }
    return cause == null ? String.valueOf(failure.getMessage()) : cause.getMessage();
  }

  private static void validate(DagRunWorkflowInput input) {
    if (input == null || input.dagId() == null || input.runId() == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "DagRunWorkflow input needs dag_id and run_id", "InvalidWorkflowInput");
    }
    if (input.contractVersion() != ContractVersion.CURRENT) {
      throw ApplicationFailure.newNonRetryableFailure(
          "contract_version " + input.contractVersion() + " is not supported (this worker speaks "
              + ContractVersion.CURRENT + "); deploy matching airflow-temporal and worker JAR versions",
          "IncompatibleContract");
    }
  }
}
