package dev.airflowtemporal.workflows.owned;

import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.failure.TimeoutFailure;
import java.util.ArrayList;
import java.util.List;

/** Why a Temporal-owned workflow could not drive its run any further, in one line for logs and Airflow. */
final class RunFailures {
  /** The failure type of a workflow that failed its run. */
  static final String DAG_RUN_FAILED = "DagRunFailed";

  private RunFailures() {}

  /**
   * The chain of causes, outermost first: a failed step by name, a timeout by kind, an exception by
   * its class and message (e.g. {@code step settle_attempt failed: java.lang.NullPointerException: ...}).
   */
  static String reason(Throwable failure) {
    List<String> parts = new ArrayList<>();
    for (Throwable t = failure; t != null && parts.size() < 8; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ActivityFailure step) {
        parts.add("step " + step.getActivityType() + " failed");
      } else if (t instanceof TimeoutFailure timeout) {
        parts.add("timed out (" + timeout.getTimeoutType() + ")");
      } else if (t instanceof ApplicationFailure application) {
        parts.add(application.getType() + ": " + application.getOriginalMessage());
      } else if (t instanceof CanceledFailure) {
        parts.add("the workflow was cancelled in Temporal");
      } else if (t instanceof TemporalFailure temporal) {
        parts.add(temporal.getClass().getSimpleName() + ": " + temporal.getOriginalMessage());
      } else {
        parts.add(t.getClass().getName() + ": " + t.getMessage());
      }
    }
    return String.join(": ", parts);
  }
}
