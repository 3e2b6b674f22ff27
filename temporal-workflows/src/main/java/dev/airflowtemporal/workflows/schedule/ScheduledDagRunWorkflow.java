package dev.airflowtemporal.workflows.schedule;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The action of a DAG's Temporal Schedule: turns one firing into one Temporal-owned DagRun, with the
 * firing's time as the run's due time, and ends as soon as that run's workflow has started.
 */
@WorkflowInterface
public interface ScheduledDagRunWorkflow {
  String WORKFLOW_TYPE = "ScheduledDagRun";

  /** Returns the workflow id of the DagRun this firing created (or had already created). */
  @WorkflowMethod(name = WORKFLOW_TYPE)
  String run(ScheduledDagRunRequest request);
}
