package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.task.RunnerReattach;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.TimeoutType;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TimeoutFailure;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import org.slf4j.Logger;

/**
 * Runs one queued try of a Temporal-owned run: its runner as a {@code run_owned_task} activity on its
 * queue's task queue, from the owned run's workflow thread. However the runner ends (the task's own end, a
 * worker lost, no worker picking it up, a time limit) is logged, not thrown: Airflow's DB says what became
 * of the try, and the workflow reads it back next.
 */
final class OwnedTaskTry {
  /** Bounds a try without an execution_timeout; the runner's own limit is the real one. */
  static final Duration TRY_WITHOUT_TIMEOUT_LIMIT = Duration.ofDays(7);
  /** Time the runner gets past execution_timeout to fail the task itself before it is killed. */
  static final Duration EXECUTION_TIMEOUT_GRACE = Duration.ofSeconds(60);

  private static final Logger log = Workflow.getLogger(OwnedTaskTry.class);

  private OwnedTaskTry() {}

  static void run(OwnedRun run, TaskPlan task, QueueResult queued) {
    TaskInstanceRef ref = new TaskInstanceRef(queued.taskId(), queued.mapIndex());
    String label = ref.label() + " try " + queued.tryNumber();
    Duration startToClose = task.executionTimeout().map(t -> t.plus(EXECUTION_TIMEOUT_GRACE)).orElse(TRY_WITHOUT_TIMEOUT_LIMIT);
    String taskQueue = TaskQueues.forAirflowQueue(Workflow.getInfo().getTaskQueue(),
        DagRunWorker.DEFAULT_QUEUE.equals(task.queue()) ? null : task.queue());
    TaskActivities runner = Workflow.newActivityStub(TaskActivities.class, ActivityOptions.newBuilder()
        .setTaskQueue(taskQueue)
        // Airflow's [scheduler] task_queued_timeout: a try no worker of its queue picks up fails.
        .setScheduleToStartTimeout(run.queuedTimeout())
        .setStartToCloseTimeout(startToClose)
        .setHeartbeatTimeout(RunnerReattach.HEARTBEAT_TIMEOUT)
        // Airflow's retries are the workflow's: a second activity attempt would find the TI no longer queued.
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .setSummary(label)
        .build());
    OwnedTaskWorkload workload = new OwnedTaskWorkload(ContractVersion.CURRENT,
        new OwnedTaskWorkload.TaskInstance(queued.taskInstanceId(), run.dagVersionId(), task.taskId(), run.dagId(),
            run.runId(), queued.tryNumber(), queued.mapIndex(), task.poolSlots(), task.queue(), task.priorityWeight()),
        run.dagRelPath(), new OwnedTaskWorkload.BundleInfo(run.bundleName(), run.bundleVersion()));
    try {
      TaskAttemptResult result = RunnerReattach.call(() -> runner.runOwnedTask(workload), startToClose,
          RunnerReattach.HEARTBEAT_TIMEOUT, label);
      if (!result.succeeded()) {
        log.warn("{}: {}", label, result.reason());
      }
    } catch (ActivityFailure e) {
      boolean unanswered = e.getCause() instanceof TimeoutFailure t
          && t.getTimeoutType() == TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START;
      if (unanswered && RunnerReattach.ACTIVITY_TYPE.equals(e.getActivityType())) {
        log.warn("{}: worker lost: the worker process that ran its runner did not answer within {} s of its "
            + "heartbeat timeout", label, RunnerReattach.PICKUP_TIMEOUT.toSeconds());
      } else if (unanswered) {
        // As Airflow's scheduler fails a task stuck in queued; settling it below releases its pool slots.
        log.error("{} was queued for longer than task_queued_timeout ({} s) and no worker picked it up from task "
            + "queue '{}' (Airflow queue '{}'): is a worker serving that queue (worker --queues {})? Failing it",
            label, run.queuedTimeout().toMillis() / 1000.0, taskQueue, task.queue(), task.queue());
      } else {
        log.warn("{}: {}", label, e.getCause() instanceof TimeoutFailure t
            ? "timed out (" + t.getTimeoutType() + ")" : String.valueOf(e.getCause().getMessage()));
      }
    }
  }
}
