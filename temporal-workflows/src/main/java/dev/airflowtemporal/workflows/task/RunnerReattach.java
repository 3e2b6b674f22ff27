package dev.airflowtemporal.workflows.task;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.common.RetryOptions;
import io.temporal.common.converter.DataConverterException;
import io.temporal.common.converter.Values;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Workflow side of a runner that outlived its activity execution: when a task activity times out
 * on its heartbeat, the worker process that ran it may still be watching the runner (Temporal was
 * out of reach, not the worker). Both DagRun workflows then ask that process for it on its own task
 * queue before they call the attempt lost.
 */
public final class RunnerReattach {
  /**
   * How long a task activity may go without a heartbeat before Temporal times it out: the worker
   * heartbeats every few seconds (the SDK sends at most one per 80% of this), so a silent worker for
   * this long is presumed gone and asked for its runner. It bounds how soon Airflow hears that a killed
   * worker's attempts are lost, with {@link #PICKUP_TIMEOUT} and the time a worker needs to act.
   */
  public static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(20);
  /** A live worker process polls its own queue all the time; one that has not answered by then is gone. */
  public static final Duration PICKUP_TIMEOUT = Duration.ofSeconds(10);
  /** The activity type of {@link TaskActivities#reattachTask}. */
  public static final String ACTIVITY_TYPE = "reattach_task";
  static final String CHANGE_ID = "reattach-runner-after-heartbeat-timeout";

  private RunnerReattach() {}

  /** Where the runner of an attempt whose activity timed out on its heartbeat lives, if it had started. */
  public static Optional<RunnerWhereabouts> lostRunner(Throwable failure) {
    if (!(failure instanceof ActivityFailure activityFailure)
        || !(activityFailure.getCause() instanceof TimeoutFailure timeout)
        || timeout.getTimeoutType() != TimeoutType.TIMEOUT_TYPE_HEARTBEAT) {
      return Optional.empty();
    }
    RunnerWhereabouts whereabouts = whereabouts(timeout.getLastHeartbeatDetails());
    if (whereabouts == null || whereabouts.reattachQueue() == null || whereabouts.runnerId() == null) {
      return Optional.empty(); // timed out before its runner started: nothing to ask for
    }
    // Histories from before reattaching called such an attempt lost at once.
    if (Workflow.getVersion(CHANGE_ID, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
      return Optional.empty();
    }
    return Optional.of(whereabouts);
  }

  /**
   * Calls an attempt's activity; while it times out on its heartbeat with a runner behind it, asks
   * the runner's worker process for it. Any other failure, and the end of a dead process's silence
   * (a schedule-to-start timeout), is thrown as it came.
   */
  public static TaskAttemptResult call(Supplier<TaskAttemptResult> activity, Duration startToClose,
      Duration heartbeatTimeout, String label) {
    try {
      return activity.get();
    } catch (ActivityFailure failure) {
      Optional<RunnerWhereabouts> lost = lostRunner(failure);
      if (lost.isEmpty()) {
        throw failure;
      }
      Workflow.getLogger(RunnerReattach.class).warn(
          "{}: its activity timed out on its heartbeat; asking worker process {} for its runner", label,
          lost.get().reattachQueue());
      TaskActivities reattach = stub(lost.get(), startToClose, heartbeatTimeout, label);
      return call(() -> reattach.reattachTask(lost.get()), startToClose, heartbeatTimeout, label);
    }
  }

  /** The activity stub that asks the runner's worker process for it. */
  public static TaskActivities stub(RunnerWhereabouts whereabouts, Duration startToClose, Duration heartbeatTimeout,
      String label) {
    return Workflow.newActivityStub(TaskActivities.class, ActivityOptions.newBuilder()
        .setTaskQueue(whereabouts.reattachQueue())
        .setScheduleToStartTimeout(PICKUP_TIMEOUT)
        .setStartToCloseTimeout(startToClose)
        .setHeartbeatTimeout(heartbeatTimeout)
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
        .setSummary(label + " (reattach to pid " + whereabouts.pid() + " on " + whereabouts.host() + ")")
        .build());
  }

  private static RunnerWhereabouts whereabouts(Values details) {
    if (details == null || details.getSize() == 0) {
      return null;
    }
    try {
      return details.get(0, RunnerWhereabouts.class);
    } catch (DataConverterException e) {
      return null;
    }
  }
}
