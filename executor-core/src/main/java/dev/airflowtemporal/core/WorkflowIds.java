package dev.airflowtemporal.core;

import java.util.Objects;

/**
 * The Temporal workflow id of a DagRun. It is derived from (dag_id, run_id) alone so that the
 * executor, the Airflow UI link and the CLI can all address a run's workflow without a lookup.
 *
 * <p>Airflow's dag_id pattern ({@code ^[\w.-]+$}) has no colon, so the first colon after the prefix
 * separates dag_id from run_id unambiguously even though run_ids may contain colons.
 */
public final class WorkflowIds {
  public static final String PREFIX = "dagrun:";

  private WorkflowIds() {}

  public static String forDagRun(String dagId, String runId) {
    Objects.requireNonNull(dagId, "dag_id");
    Objects.requireNonNull(runId, "run_id");
    if (dagId.isEmpty() || dagId.indexOf(':') >= 0) {
      throw new IllegalArgumentException("dag_id must be non-empty and contain no ':' but was '" + dagId + "'");
    }
    if (runId.isEmpty()) {
      throw new IllegalArgumentException("run_id must be non-empty");
    }
    return PREFIX + dagId + ":" + runId;
  }
}
