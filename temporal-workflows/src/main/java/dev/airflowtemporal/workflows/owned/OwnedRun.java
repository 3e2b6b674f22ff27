package dev.airflowtemporal.workflows.owned;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * The DagRun a Temporal-owned workflow drives: what every later step needs to address it and to
 * build its task runners' workloads.
 *
 * @param dagVersionId the {@code dag_version} the run and its TaskInstances were created from
 * @param dagRelPath the DAG file, relative to its bundle's root
 * @param logicalDate the run's logical date (null for a run without one)
 * @param clearNumber the run's {@code clear_number} when the workflow last read its task instances:
 *     every write is refused once Airflow has cleared the run again since (0 in histories recorded
 *     before clears were followed, as for any run never cleared)
 * @param taskQueuedTimeout Airflow's {@code [scheduler] task_queued_timeout} as the worker that created
 *     or resumed the run saw it: a try no worker picks up within it fails (null in histories recorded
 *     before it was carried: {@link #DEFAULT_TASK_QUEUED_TIMEOUT})
 * @param startDate the run's {@code start_date} when the workflow created or last read it, from which its
 *     DAG's dagrun_timeout runs (null while queued, and in histories recorded before it was carried)
 */
public record OwnedRun(String dagId, String runId, UUID dagVersionId, String dagRelPath, String bundleName,
                       String bundleVersion, OffsetDateTime logicalDate, int clearNumber, Duration taskQueuedTimeout,
                       Instant startDate) {
  /** Airflow's default {@code task_queued_timeout}. */
  public static final Duration DEFAULT_TASK_QUEUED_TIMEOUT = Duration.ofSeconds(600);

  /** How long a try of this run may wait for a worker to pick it up. */
  public Duration queuedTimeout() {
    return taskQueuedTimeout != null ? taskQueuedTimeout : DEFAULT_TASK_QUEUED_TIMEOUT;
  }
}
