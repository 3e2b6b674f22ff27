package dev.airflowtemporal.dbsync;

import java.util.Objects;

/**
 * A request to queue one attempt of a TaskInstance.
 *
 * @param expectedTryNumber the try this attempt is: the TI's {@code try_number} once queued. A request
 *     repeated after that try was queued is recognised by it and changes nothing.
 */
public record QueueRequest(TaskInstanceKey task, int expectedTryNumber) {
  public QueueRequest {
    Objects.requireNonNull(task, "task");
    if (expectedTryNumber < 1) {
      throw new IllegalArgumentException("tries are numbered from 1, got " + expectedTryNumber);
    }
  }
}
