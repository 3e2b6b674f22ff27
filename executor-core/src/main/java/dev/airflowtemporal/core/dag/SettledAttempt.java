package dev.airflowtemporal.core.dag;

import java.time.Instant;
import java.util.List;

/**
 * A finished try as Airflow's DB shows it afterwards (what the {@code settle_attempt} activity returns).
 *
 * @param state the TI's state: success, failed, up_for_retry or skipped as the runner reported it,
 *     or what the worker set when the runner ended without reporting one
 * @param endDate when the try ended (the base of a retry delay)
 * @param retryDelayOverrideSeconds a RetryPolicy's delay the runner stored on the TI, if any
 * @param skipped task instances of the run the try skipped through Airflow's API (branching,
 *     short-circuit), which the workflow must treat as settled
 */
public record SettledAttempt(TaskInstanceRef ref, int tryNumber, TaskState state, Instant endDate,
                             Double retryDelayOverrideSeconds, List<TaskInstanceRef> skipped) {}
