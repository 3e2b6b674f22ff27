package dev.airflowtemporal.core.dag;

import java.time.Instant;

/**
 * A task instance as Airflow's DB has it when a workflow reads its run back (after a clear).
 *
 * @param state its state; a try still in flight (queued, running, restarting, deferred) reads as
 *     {@link TaskState#QUEUED} or {@link TaskState#RUNNING}
 * @param endDate when its last try ended, the base of an up_for_retry's delay
 * @param retryDelayOverrideSeconds for up_for_retry: a RetryPolicy's delay, or null
 * @param rescheduleDate for up_for_reschedule: when the sensor asked to poke again, or null (also in reads
 *     recorded before it was carried)
 */
public record TaskInstanceSnapshot(TaskInstanceRef ref, TaskState state, int tryNumber, Instant endDate,
                                   Double retryDelayOverrideSeconds, Instant rescheduleDate) {}
