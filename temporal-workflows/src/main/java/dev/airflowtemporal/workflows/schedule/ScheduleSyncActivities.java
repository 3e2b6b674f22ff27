package dev.airflowtemporal.workflows.schedule;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

@ActivityInterface
public interface ScheduleSyncActivities {
  /** Makes the managed Temporal Schedules match the opted-in DAGs of Airflow's DB, once. */
  @ActivityMethod(name = "sync_schedules")
  ScheduleSyncSummary sync(ScheduleSyncSettings settings);
}
