package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.RunView;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Temporal-owned mode: one workflow per DagRun ({@code run_type='external'}) that creates the run
 * in Airflow's DB and drives it to its end, with Airflow's trigger rules, retries, pools, queues and
 * time limits, and no help from Airflow's scheduler. Its id is {@code WorkflowIds.forDagRun}.
 */
@WorkflowInterface
public interface OwnedDagRunWorkflow {
  String TYPE = "OwnedDagRun";
  /** The name of {@link #dagRunCleared}, for untyped stubs. */
  String CLEARED_SIGNAL = "dag_run_cleared";
  /** The name of {@link #taskInstancesResumed}, for untyped stubs. */
  String RESUMED_SIGNAL = "task_instances_resumed";

  /**
   * @param carried null when started by a trigger or a schedule; set by the workflow itself when it
   *     continues as new; {@link OwnedDagRunCarry#clearedRun()} when started to resume a run Airflow
   *     cleared
   * @return the DagRun's final state, {@code success} or {@code failed} (for a resume that found
   *     nothing to resume, or a run ended outside the workflow, the state the run had then)
   */
  @WorkflowMethod(name = TYPE)
  String run(OwnedDagRunRequest request, OwnedDagRunCarry carried);

  /**
   * Airflow cleared task instances of this run while the workflow drives it (the clear leaves a
   * running run running): the workflow reads the run back before its next step instead of at its
   * next write. Sent by the cleared-runs sweep; a clear number the workflow has seen is ignored.
   */
  @SignalMethod(name = CLEARED_SIGNAL)
  void dagRunCleared(int clearNumber);

  /**
   * Airflow resumed tries of this run that were parked without a runner (a deferral's trigger fired or
   * failed or timed out, a Human-in-the-loop task was answered or timed out: the TI is scheduled): the
   * workflow reads its parked tries back at its next step and queues the resumed ones, at the same try.
   * Sent by the cleared-runs sweep; without it the workflow finds them on its own, later.
   */
  @SignalMethod(name = RESUMED_SIGNAL)
  void taskInstancesResumed();

  @QueryMethod(name = "progress")
  OwnedDagRunProgress progress();

  /** What the "Temporal workflow" tab of the run's page in Airflow's UI shows, with what the run waits for. */
  @QueryMethod(name = "view")
  RunView view();
}
