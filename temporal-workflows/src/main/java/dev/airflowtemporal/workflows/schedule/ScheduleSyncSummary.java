package dev.airflowtemporal.workflows.schedule;

/**
 * What one sync did.
 *
 * @param optedIn DAGs that opted in (tag or dag_id)
 * @param notScheduled opted-in DAGs whose timetable has no Temporal counterpart or could not be read
 * @param failed changes Temporal refused; retried by the next sync
 */
public record ScheduleSyncSummary(int optedIn, int notScheduled, int created, int updated, int paused,
                                  int unpaused, int deleted, int unchanged, int failed) {}
