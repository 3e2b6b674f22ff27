package dev.airflowtemporal.core.dag;

import java.time.Instant;

/**
 * What one task instance of a Temporal-owned run waits for before its next try can run
 * ({@link DagRunStateMachine#waits}).
 *
 * @param tryNumber the try it waits to start
 * @param until when the wait ends on its own (a retry delay, a reschedule date, a pool recheck) or when
 *     the workflow next reads a parked try back; null when nothing on a clock ends it
 * @param detail the pool, for {@link Reason#POOL}; {@code N of M running}, for {@link Reason#MAX_ACTIVE_TASKS}
 */
public record TaskWait(TaskInstanceRef ref, int tryNumber, Reason reason, Instant until, String detail) {

  public enum Reason {
    MAX_ACTIVE_TASKS, POOL, RETRY_DELAY, RESCHEDULE, TRIGGER, HUMAN_INPUT;

    /** The name on the wire ({@code RunWait.reason}). */
    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
