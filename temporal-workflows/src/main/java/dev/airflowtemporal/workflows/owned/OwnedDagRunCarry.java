package dev.airflowtemporal.workflows.owned;

import java.util.List;

/**
 * What a Temporal-owned workflow hands to its next run when it continues as new: the run it
 * created and where each task instance stands (nothing is in flight at that point). The plan is
 * reloaded from the DAG version, which never changes, so it does not travel twice through history.
 */
public record OwnedDagRunCarry(OwnedRun run, List<TaskProgress> taskInstances) {}
