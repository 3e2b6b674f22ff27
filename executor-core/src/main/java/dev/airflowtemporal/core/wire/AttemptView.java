package dev.airflowtemporal.core.wire;

import java.time.OffsetDateTime;

/**
 * One attempt in a {@link RunView}: a task try's activity, as the workflow saw it start and end.
 *
 * @param state {@code waiting} (executor mode: handed over, not started yet), {@code running}, then in
 *     executor mode how its runner ended — {@code finished} (exited 0: the task's own state, success or not, is
 *     what the runner wrote to Airflow), {@code failed} (exited otherwise, never started, or lost),
 *     {@code revoked} (Airflow took it back) — or, in owned mode, the state Airflow's DB gave the try
 *     ({@code success}, {@code up_for_retry}, {@code deferred}, ...)
 * @param queue the Airflow queue it was routed by (null: the default)
 * @param startedAt when the workflow scheduled its activity; null while waiting
 * @param endedAt when the workflow saw it end; null while it runs
 * @param detail why it failed, or what its owned try's end found, else null
 */
public record AttemptView(
    String taskId,
    int mapIndex,
    int tryNumber,
    String state,
    String queue,
    OffsetDateTime startedAt,
    OffsetDateTime endedAt,
    String detail) {}
