package dev.airflowtemporal.workflows.cleared;

/**
 * What one sweep did.
 *
 * @param queued cleared external runs in state queued (their DAG unpaused)
 * @param resumed of those, how many this sweep started a workflow for
 * @param alreadyResuming of those, how many already had a workflow running (started by an earlier sweep)
 * @param signalled running external runs cleared recently whose workflow was told so
 * @param failed starts or signals Temporal refused; done again by the next sweep
 * @param waitsResumed running external runs whose workflow was told that Airflow resumed tries of theirs
 *     parked without a runner (deferred, awaiting_input)
 */
public record ClearedRunsSweepSummary(int queued, int resumed, int alreadyResuming, int signalled, int failed,
                                      int waitsResumed) {}
