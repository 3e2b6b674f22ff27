package dev.airflowtemporal.workflows.schedule;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The one loop per namespace that keeps DAG schedules in step with Airflow: a sync every
 * {@link ScheduleSyncSettings#interval()}, forever, continuing as new to keep its history short.
 */
@WorkflowInterface
public interface ScheduleSyncWorkflow {
  /** Fixed, so that every worker finds the loop that is already running instead of starting another. */
  String WORKFLOW_ID = "airflow-schedule-sync";

  @WorkflowMethod(name = "ScheduleSync")
  void run(ScheduleSyncSettings settings);

  /** New settings, taken from the next sync on (a worker that starts sends its own). */
  @SignalMethod(name = "configure")
  void configure(ScheduleSyncSettings settings);

  /** The last sync's summary; null before the first one. */
  @QueryMethod(name = "last_summary")
  ScheduleSyncSummary lastSummary();
}
