package dev.airflowtemporal.workflows.cleared;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface ClearedRunsSweepActivities {
  /**
   * Once: starts an {@code OwnedDagRun} workflow that resumes each external run Airflow cleared after
   * it finished (state queued), and tells the workflow of each external run cleared while it runs.
   */
  @ActivityMethod(name = "sweep_cleared_runs")
  ClearedRunsSweepSummary sweep(ClearedRunsSweepSettings settings);
}
