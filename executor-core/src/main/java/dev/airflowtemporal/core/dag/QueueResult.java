package dev.airflowtemporal.core.dag;

import java.time.Instant;
import java.util.UUID;

/**
 * What the {@code queue_attempts} activity did with one {@link AttemptToQueue}.
 *
 * @param tryNumber the TI's try number now: the requested one when queued
 * @param taskInstanceId the TI's id for this try (Airflow gives every try its own id); null unless queued
 * @param queuedAt when the TI was queued; Airflow state changes from then on are this try's
 * @param state for {@link Outcome#NOT_QUEUEABLE}: the TI's state in Airflow's DB (e.g. a branch
 *     skipped it meanwhile)
 */
public record QueueResult(String taskId, int mapIndex, Outcome outcome, int tryNumber, UUID taskInstanceId,
                          Instant queuedAt, TaskState state) {

  public enum Outcome {
    /** Queued now, or by an earlier call with the same request. */
    QUEUED,
    /** Its pool has too few open slots across all runs; the TI was left as it was. */
    POOL_FULL,
    /** The TI is no longer in a state a try can start from; nothing changed. */
    NOT_QUEUEABLE,
    /**
     * Started in Airflow's triggerer ({@link AttemptToDefer}, now or by an earlier call with the same request):
     * deferred at the requested try, with no runner; Airflow resumes it.
     */
    DEFERRED
  }

  public static QueueResult queued(AttemptToQueue attempt, UUID taskInstanceId, Instant queuedAt) {
    return new QueueResult(attempt.taskId(), attempt.mapIndex(), Outcome.QUEUED, attempt.tryNumber(), taskInstanceId,
        queuedAt, TaskState.QUEUED);
  }

  public static QueueResult poolFull(AttemptToQueue attempt) {
    return new QueueResult(attempt.taskId(), attempt.mapIndex(), Outcome.POOL_FULL, attempt.tryNumber() - 1, null, null,
        null);
  }

  public static QueueResult deferred(AttemptToQueue attempt) {
    return new QueueResult(attempt.taskId(), attempt.mapIndex(), Outcome.DEFERRED, attempt.tryNumber(), null, null,
        TaskState.DEFERRED);
  }

  public static QueueResult notQueueable(AttemptToQueue attempt, TaskState state, int tryNumber) {
    return new QueueResult(attempt.taskId(), attempt.mapIndex(), Outcome.NOT_QUEUEABLE, tryNumber, null, null, state);
  }
}
