package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.TaskState;
import java.time.Instant;

/**
 * Where one task of a Temporal-owned run stands.
 *
 * @param tryNumber the TI's try_number (0 before its first try)
 * @param retryAt for {@code up_for_retry}: when the next try may start
 */
public record TaskProgress(TaskState state, int tryNumber, Instant retryAt) {
  public static final TaskProgress NOT_STARTED = new TaskProgress(TaskState.NONE, 0, null);
}
