package dev.airflowtemporal.core.dag;

import java.time.Instant;

/**
 * Where one task instance of a Temporal-owned run stands.
 *
 * @param tryNumber the TI's try_number (0 before its first try)
 * @param retryAt for {@code up_for_retry}: when the next try may start
 */
public record TaskProgress(TaskInstanceRef ref, TaskState state, int tryNumber, Instant retryAt) {
  public static TaskProgress notStarted(TaskInstanceRef ref) {
    return new TaskProgress(ref, TaskState.NONE, 0, null);
  }

  public TaskProgress settled(TaskState newState) {
    return new TaskProgress(ref, newState, tryNumber, null);
  }
}
