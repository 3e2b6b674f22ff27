package dev.airflowtemporal.workflows.cleared;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The one loop per namespace that hands Temporal-owned runs Airflow cleared back to a workflow:
 * a sweep every {@link ClearedRunsSweepSettings#interval()}, continuing as new to keep its history
 * short, until a worker started with {@code --no-resume-cleared-runs} stops it.
 */
@WorkflowInterface
public interface ClearedRunsSweepWorkflow {
  /** Fixed, so that every worker finds the loop that is already running instead of starting another. */
  String WORKFLOW_ID = "airflow-cleared-runs-sweep";

  @WorkflowMethod(name = "ClearedRunsSweep")
  void run(ClearedRunsSweepSettings settings);

  /** New settings, taken from the next sweep on (a worker that starts sends its own). */
  @SignalMethod(name = "configure")
  void configure(ClearedRunsSweepSettings settings);

  /** Ends the loop after the sweep in progress, if any. */
  @SignalMethod(name = "stop")
  void stop();

  /** The last sweep's summary; null before the first one. */
  @QueryMethod(name = "last_summary")
  ClearedRunsSweepSummary lastSummary();
}
