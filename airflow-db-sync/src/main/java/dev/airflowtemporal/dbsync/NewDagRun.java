package dev.airflowtemporal.dbsync;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * What a Temporal workflow asks {@link DagRuns#createExternal} to insert. The fields mirror the
 * arguments of Airflow's {@code SerializedDAG.create_dagrun}.
 *
 * @param runType the product passes {@code external}; the column is a plain String(50)
 * @param state {@code queued} or {@code running} (created queued while the DAG is at its max_active_runs)
 * @param logicalDate null for a run without one (as manual runs in Airflow 3); unique per DAG otherwise
 * @param dataIntervalStart both interval ends are null or both set, and only with a logical date
 * @param startDate for a running run, when it started; null means now
 * @param confJson the run's conf as a JSON object; null means {}
 * @param bundleVersion the DAG version's bundle version (null for the DAGs folder)
 * @param dagVersionId the {@code dag_version} the run is created from ({@code created_dag_version_id})
 */
public record NewDagRun(String dagId, String runId, String runType, String state, Instant logicalDate,
                        Instant dataIntervalStart, Instant dataIntervalEnd, Instant runAfter, Instant startDate,
                        String confJson, TriggeredBy triggeredBy, String triggeringUserName,
                        String bundleVersion, UUID dagVersionId) {
  private static final Set<String> INITIAL_STATES = Set.of("queued", "running");

  public NewDagRun {
    Objects.requireNonNull(dagId, "dagId");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(runType, "runType");
    Objects.requireNonNull(runAfter, "runAfter");
    Objects.requireNonNull(triggeredBy, "triggeredBy");
    Objects.requireNonNull(dagVersionId, "dagVersionId");
    if (!INITIAL_STATES.contains(state)) {
      throw new IllegalArgumentException("a new DagRun starts queued or running, not " + state);
    }
    if ((dataIntervalStart == null) != (dataIntervalEnd == null)) {
      throw new IllegalArgumentException("data interval start and end must both be set or both be null");
    }
    if (logicalDate == null && dataIntervalStart != null) {
      throw new IllegalArgumentException("a run without a logical date has no data interval (as in Airflow)");
    }
    if (confJson == null) {
      confJson = "{}";
    }
  }

  /** The same run in another initial state. */
  public NewDagRun withState(String newState) {
    return new NewDagRun(dagId, runId, runType, newState, logicalDate, dataIntervalStart, dataIntervalEnd, runAfter,
        startDate, confJson, triggeredBy, triggeringUserName, bundleVersion, dagVersionId);
  }
}
