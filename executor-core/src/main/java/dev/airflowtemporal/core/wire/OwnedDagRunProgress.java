package dev.airflowtemporal.core.wire;

import java.util.List;
import java.util.Map;

/**
 * Result of the Temporal-owned DagRun workflow's {@code progress} query; what
 * {@code trigger --wait} prints while it waits.
 *
 * @param state {@code creating} until the DagRun and its TaskInstances exist ({@code resuming} in an
 *     execution that resumes a run cleared in Airflow, until it has taken the run; {@code queued} while the DAG's max_active_runs are running), then {@code running},
 *     then Airflow's final {@code success} or {@code failed}; {@code rejected} when the request was
 *     refused (unknown DAG, bad conf, ...) and nothing was created
 * @param error why the run was rejected or failed outright, else null
 * @param taskStates how many TaskInstances are in each Airflow state ({@code none} = not started)
 * @param running the attempts in flight, as {@code task[map_index] try N}
 */
public record OwnedDagRunProgress(
    int contractVersion,
    String dagId,
    String runId,
    String state,
    String error,
    Map<String, Integer> taskStates,
    List<String> running) {}
