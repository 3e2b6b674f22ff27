package dev.airflowtemporal.core.wire;

import java.util.UUID;

/**
 * What the worker hands {@code python -m airflow_temporal.worker.task_runner} for one attempt of a
 * Temporal-owned run: Airflow's {@code ExecuteTask} workload without its token. The runner host mints
 * the token with Airflow's own generator and signing key, so no credential enters Temporal.
 */
public record OwnedTaskWorkload(int contractVersion, TaskInstance ti, String dagRelPath, BundleInfo bundleInfo) {

  /** The fields of Airflow's {@code TaskInstanceDTO} the runner needs. */
  public record TaskInstance(UUID id, UUID dagVersionId, String taskId, String dagId, String runId, int tryNumber,
                             int mapIndex, int poolSlots, String queue, int priorityWeight) {}

  /** Airflow's {@code BundleInfo}: which DAG bundle (and version) holds the DAG file. */
  public record BundleInfo(String name, String version) {}
}
