package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.core.wire.WorkloadOutcome;
import dev.airflowtemporal.core.wire.WorkloadRun;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Executor mode: one workflow per callback or connection test Airflow's scheduler hands the executor
 * (ids {@code callback:{id}} and {@code connection-test:{id}}, from Airflow's own keys), which runs it
 * once as a {@code run_workload} activity and returns how the runner ended.
 */
@WorkflowInterface
public interface ExecutorWorkloadWorkflow {
  String TYPE = "ExecutorWorkload";

  @WorkflowMethod(name = TYPE)
  WorkloadOutcome run(WorkloadRun run);
}
