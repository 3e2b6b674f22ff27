package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.TaskProgress;
import java.util.List;

/**
 * The second argument of a Temporal-owned workflow: null when a trigger or a schedule starts it to
 * create a run; set by the workflow itself when it continues as new (the run it drives and where each
 * task instance stands; nothing is in flight at that point; the plan is reloaded from the DAG version,
 * which never changes, so it does not travel twice through history); {@link #clearedRun()} when the
 * cleared-runs sweep starts it to resume a run Airflow cleared, which it reads back from the DB.
 *
 * @param resumeCleared the run exists and was cleared: resume it from what Airflow's DB says
 */
public record OwnedDagRunCarry(OwnedRun run, List<TaskProgress> taskInstances, boolean resumeCleared) {
  /** Resume the request's run, which Airflow cleared (state queued): read it back from the DB. */
  public static OwnedDagRunCarry clearedRun() {
    return new OwnedDagRunCarry(null, List.of(), true);
  }

  /** Continue as new with the run and its task instances as they stand. */
  public static OwnedDagRunCarry continuing(OwnedRun run, List<TaskProgress> taskInstances) {
    return new OwnedDagRunCarry(run, taskInstances, false);
  }
}
