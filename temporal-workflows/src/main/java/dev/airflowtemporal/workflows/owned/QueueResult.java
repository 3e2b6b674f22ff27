package dev.airflowtemporal.workflows.owned;

import java.time.Instant;
import java.util.UUID;

/**
 * What {@link DagRunSyncActivities#queueAttempts} did with one {@link AttemptToQueue}.
 *
 * @param queued true when the TI is now queued with the requested try; false when its pool had no
 *     open slot (the TI was left as it was)
 * @param taskInstanceId the TI's id for this try (Airflow gives every try its own id)
 * @param queuedAt when the TI was queued; its Airflow state changes from then on are this attempt's
 */
public record QueueResult(String taskId, int mapIndex, boolean queued, int tryNumber, UUID taskInstanceId,
                          Instant queuedAt) {
  public static QueueResult poolFull(AttemptToQueue attempt) {
    return new QueueResult(attempt.taskId(), attempt.mapIndex(), false, attempt.tryNumber(), null, null);
  }
}
