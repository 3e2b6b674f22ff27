package dev.airflowtemporal.dbsync;

import java.time.Instant;
import java.util.UUID;

/**
 * A {@code dag_run} row as {@link DagRuns} created or found it; {@code id} is Airflow's integer id.
 *
 * @param clearNumber how often Airflow cleared the run's tasks ({@code clear_task_instances} adds one each time)
 * @param confJson the run's conf as JSON text
 * @param triggeredBy Airflow's stored {@code DagRunTriggeredByType} name, e.g. {@code CLI}
 */
public record DagRun(int id, String dagId, String runId, String runType, String state, Instant logicalDate,
                     Instant runAfter, Instant queuedAt, Instant startDate, Instant endDate, UUID dagVersionId,
                     int clearNumber, String bundleVersion, String confJson, String triggeredBy,
                     String triggeringUserName) {
  static DagRun of(DagRunRow row) {
    return new DagRun(row.id, row.dagId, row.runId, row.runType, row.state, row.logicalDate, row.runAfter,
        row.queuedAt, row.startDate, row.endDate, row.createdDagVersionId, row.clearNumber, row.bundleVersion,
        row.conf, row.triggeredBy, row.triggeringUserName);
  }

  public DagRunKey key() {
    return new DagRunKey(dagId, runId);
  }
}
