package dev.airflowtemporal.dbsync;

import java.time.Instant;
import java.util.UUID;

/** A {@code dag_run} row as {@link DagRuns} created or found it; {@code id} is Airflow's integer id. */
public record DagRun(int id, String dagId, String runId, String runType, String state, Instant logicalDate,
                     Instant runAfter, Instant queuedAt, Instant startDate, Instant endDate, UUID dagVersionId) {
  static DagRun of(DagRunRow row) {
    return new DagRun(row.id, row.dagId, row.runId, row.runType, row.state, row.logicalDate, row.runAfter,
        row.queuedAt, row.startDate, row.endDate, row.createdDagVersionId);
  }
}
