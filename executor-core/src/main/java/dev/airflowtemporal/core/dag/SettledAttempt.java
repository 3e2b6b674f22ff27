package dev.airflowtemporal.core.dag;

import java.time.Instant;
import java.util.List;

/**
 * A try whose runner ended, as Airflow's DB shows it afterwards (what the {@code settle_attempt} activity
 * returns).
 *
 * @param state the TI's state: success, failed, up_for_retry or skipped as the runner reported it, or
 *     what the worker set when the runner ended without reporting one; or a state in which the try waits
 *     without a runner: up_for_reschedule (a sensor between pokes), deferred (Airflow's triggerer runs its
 *     trigger), awaiting_input (Human-in-the-loop), scheduled (already resumed: a response that came
 *     before the runner parked the task)
 * @param endDate when the try ended (the base of a retry delay)
 * @param retryDelayOverrideSeconds a RetryPolicy's delay the runner stored on the TI, if any
 * @param skipped task instances of the run the try skipped through Airflow's API (branching,
 *     short-circuit), which the workflow must treat as settled
 * @param rescheduleDate for up_for_reschedule: when the sensor asked to poke again (its
 *     {@code task_reschedule} row); null otherwise
 */
public record SettledAttempt(TaskInstanceRef ref, int tryNumber, TaskState state, Instant endDate,
                             Double retryDelayOverrideSeconds, List<TaskInstanceRef> skipped, Instant rescheduleDate) {
  /** A try that does not wait for a reschedule date. */
  public SettledAttempt(TaskInstanceRef ref, int tryNumber, TaskState state, Instant endDate,
                        Double retryDelayOverrideSeconds, List<TaskInstanceRef> skipped) {
    this(ref, tryNumber, state, endDate, retryDelayOverrideSeconds, skipped, null);
  }
}
