package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.PackedPlan;
import dev.airflowtemporal.core.dag.TaskInstanceSnapshot;
import java.util.List;

/**
 * What {@link DagRunSyncActivities#resumeDagRun} found.
 *
 * @param resumed this call moved the run from queued (cleared) to running
 * @param state the run's state after the call; {@code missing} when it no longer exists
 * @param run the run to drive, with the clear_number read; null when there is nothing to drive
 *     (the run ended, is gone, or waits queued for a slot under the DAG's max_active_runs)
 * @param plan the plan of the run's DAG version (null with {@code run})
 * @param taskInstances every task instance of the run as it is now (empty with {@code run})
 */
public record ResumedDagRun(boolean resumed, String state, OwnedRun run, PackedPlan plan,
                            List<TaskInstanceSnapshot> taskInstances) {
  public static ResumedDagRun nothingToDrive(String state) {
    return new ResumedDagRun(false, state, null, null, List.of());
  }
}
