package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import io.temporal.workflow.QueryMethod;
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

  /**
   * @param carried null when started by a trigger or a schedule; set by the workflow itself when it
   *     continues as new
   * @return the DagRun's final state, {@code success} or {@code failed}
   */
  @WorkflowMethod(name = TYPE)
  String run(OwnedDagRunRequest request, OwnedDagRunCarry carried);

  @QueryMethod(name = "progress")
  OwnedDagRunProgress progress();
}
