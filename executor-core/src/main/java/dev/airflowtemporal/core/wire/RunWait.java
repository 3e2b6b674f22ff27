package dev.airflowtemporal.core.wire;

import java.time.OffsetDateTime;

/**
 * Something a Temporal-owned run waits for (a {@link RunView}'s {@code waits}).
 *
 * @param taskId the task instance that waits, or null for the run itself ({@code max_active_runs})
 * @param tryNumber the try it waits to start (the next one for a retry)
 * @param reason {@code max_active_runs} (the run is queued), {@code max_active_tasks}, {@code pool}
 *     ({@code detail}: the pool), {@code retry_delay}, {@code reschedule} (a sensor's reschedule date),
 *     {@code trigger} (deferred: Airflow's triggerer runs its trigger), {@code human_input} (awaiting a
 *     Human-in-the-loop answer)
 * @param until when the wait ends on its own, or when the workflow looks again; null when unknown
 */
public record RunWait(String taskId, int mapIndex, int tryNumber, String reason, OffsetDateTime until,
    String detail) {}
