package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.core.wire.OutcomeState;
import dev.airflowtemporal.core.wire.WorkloadOutcome;
import dev.airflowtemporal.core.wire.WorkloadRun;
import dev.airflowtemporal.workflows.task.RunnerReattach;
import dev.airflowtemporal.workflows.task.WorkloadActivities;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import org.slf4j.Logger;

/**
 * Runs one callback or connection test with Airflow's own runner, once (Airflow does not retry either
 * through the executor), on the task queue of its Airflow queue. A runner whose activity timed out on
 * its heartbeat is claimed back from its worker process, as an attempt's is.
 */
public class ExecutorWorkloadWorkflowImpl implements ExecutorWorkloadWorkflow {
  private static final Logger log = Workflow.getLogger(ExecutorWorkloadWorkflowImpl.class);

  @Override
  public WorkloadOutcome run(WorkloadRun run) {
    if (run == null || !run.problems().isEmpty()) {
      throw ApplicationFailure.newNonRetryableFailure("ExecutorWorkload input refused: "
          + (run == null ? "no input" : String.join("; ", run.problems())), "InvalidWorkflowInput");
    }
    String label = run.label();
    WorkloadActivities activities = Workflow.newActivityStub(WorkloadActivities.class, ActivityOptions.newBuilder()
        .setTaskQueue(TaskQueues.forAirflowQueue(Workflow.getInfo().getTaskQueue(), run.queue()))
        .setStartToCloseTimeout(DagRunWorkflowImpl.ATTEMPT_START_TO_CLOSE)
        .setHeartbeatTimeout(RunnerReattach.HEARTBEAT_TIMEOUT)
        .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
        .setSummary(label)
        .build());
    try {
      return outcome(RunnerReattach.call(() -> activities.runWorkload(run), DagRunWorkflowImpl.ATTEMPT_START_TO_CLOSE,
          RunnerReattach.HEARTBEAT_TIMEOUT, label));
    } catch (ActivityFailure failure) {
      log.error("{} failed: {}", label, DagRunWorkflowImpl.describe(failure));
      return new WorkloadOutcome(OutcomeState.FAILED, null, DagRunWorkflowImpl.describe(failure), "");
    }
  }

  private static WorkloadOutcome outcome(TaskAttemptResult result) {
    return new WorkloadOutcome(result.succeeded() ? OutcomeState.SUCCESS : OutcomeState.FAILED, result.exitCode(),
        result.reason(), result.outputTail());
  }
}
