package dev.airflowtemporal.core.wire;

/** One attempt of one task instance within a DagRun: Airflow's TaskInstanceKey minus dag_id and run_id. */
public record AttemptKey(String taskId, int mapIndex, int tryNumber) {

  /** Human-readable label used in activity summaries and logs, e.g. {@code extract[3] try 2}. */
  public String label() {
    return taskId + (mapIndex >= 0 ? "[" + mapIndex + "]" : "") + " try " + tryNumber;
  }
}
