package dev.airflowtemporal.core.wire;

import java.util.List;

/**
 * Result of query {@code view} of either DagRun workflow: what the "Temporal workflow" tab of a DagRun
 * page in Airflow's UI shows, read from the workflow's state, never from its history.
 *
 * @param mode {@code executor} (a {@code DagRunWorkflow}: Airflow's scheduler decides what runs) or
 *     {@code owned} (an {@code OwnedDagRun}: the workflow decides)
 * @param phase executor mode: {@code running} while an attempt runs or waits to start, else {@code idle};
 *     owned mode: the {@code progress} query's {@code state}
 * @param error owned mode: why the run was rejected or failed outright, else null
 * @param attempts the attempts this execution of the workflow started (after a continue-as-new, the
 *     earlier ones are in the previous execution), oldest first; waiting ones (executor mode) last
 * @param omittedAttempts how many older attempts were left out of {@code attempts} (it keeps the latest
 *     {@code 500})
 * @param waits owned mode: what the run waits for besides its attempts in flight; empty in executor mode,
 *     where Airflow's scheduler holds back what is not yet queued
 */
public record RunView(
    int contractVersion,
    String mode,
    String phase,
    String error,
    List<AttemptView> attempts,
    int omittedAttempts,
    List<RunWait> waits) {

  public static final String EXECUTOR = "executor";
  public static final String OWNED = "owned";
}
