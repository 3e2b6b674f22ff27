package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.PackedPlan;

/**
 * Result of {@link DagRunSyncActivities#createDagRun}: the run in Airflow's DB and the plan it follows.
 *
 * @param queued the run was created queued: the DAG's max_active_runs are running; it starts when one ends
 */
public record CreatedDagRun(OwnedRun run, PackedPlan plan, boolean queued) {}
