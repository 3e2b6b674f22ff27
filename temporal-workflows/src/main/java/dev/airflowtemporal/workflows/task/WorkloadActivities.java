package dev.airflowtemporal.workflows.task;

import dev.airflowtemporal.core.wire.WorkloadRun;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * Executor mode's workloads other than task attempts, run like an attempt ({@link TaskActivities#runTask}:
 * Airflow's runner module, forked or spawned, heartbeating, killed with its tree on cancel, claimed back
 * with {@link TaskActivities#reattachTask} after a heartbeat timeout). Implemented by {@link TaskActivitiesImpl}.
 */
@ActivityInterface
public interface WorkloadActivities {

  /**
   * Runs an {@code ExecuteCallback} or {@code TestConnection} workload with Airflow's runner module,
   * which hands it to Airflow's callback or connection-test supervisor.
   */
  @ActivityMethod(name = "run_workload")
  TaskAttemptResult runWorkload(WorkloadRun run);
}
