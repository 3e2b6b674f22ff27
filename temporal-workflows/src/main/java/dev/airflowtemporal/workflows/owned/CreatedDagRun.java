package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.DagPlan;

/** Result of {@link DagRunSyncActivities#createDagRun}: the run in Airflow's DB and the plan it follows. */
public record CreatedDagRun(OwnedRun run, DagPlan plan) {}
