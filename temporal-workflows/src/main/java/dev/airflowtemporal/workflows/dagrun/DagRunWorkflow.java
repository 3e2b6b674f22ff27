package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.core.wire.DagRunProgress;
import dev.airflowtemporal.core.wire.DagRunWorkflowInput;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.core.wire.TaskCancellation;
import dev.airflowtemporal.core.wire.TaskSubmission;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One workflow per Airflow DagRun (id from {@code WorkflowIds.forDagRun}). In executor mode Airflow's
 * scheduler decides what runs: each {@code submit_task} signal becomes one activity; the executor
 * pages through outcomes with {@code progress} and acknowledges them. The names below are the wire
 * contract with the Python executor (docs/wire-contract.md).
 */
@WorkflowInterface
public interface DagRunWorkflow {
  String TYPE = "DagRunWorkflow";

  @WorkflowMethod(name = TYPE)
  void run(DagRunWorkflowInput input);

  @SignalMethod(name = "submit_task")
  void submitTask(TaskSubmission submission);

  @SignalMethod(name = "cancel_task")
  void cancelTask(TaskCancellation cancellation);

  /** The executor has put every outcome with {@code seq <= upToSeq} into Airflow's event buffer. */
  @SignalMethod(name = "acknowledge_outcomes")
  void acknowledgeOutcomes(long upToSeq);

  @QueryMethod(name = "progress")
  DagRunProgress progress(long afterSeq);

  /** What the "Temporal workflow" tab of the run's page in Airflow's UI shows. */
  @QueryMethod(name = "view")
  RunView view();
}
