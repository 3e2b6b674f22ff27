package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.PackedPlan;

/** Result of {@link DagRunSyncActivities#createDagRun}: the run in Airflow's DB and the plan it follows. */
public record CreatedDagRun(OwnedRun run, PackedPlan plan) {}
