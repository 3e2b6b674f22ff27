package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.util.Optional;

/**
 * A try the workflow starts in Airflow's triggerer rather than on a worker ({@link StartTrigger}): Airflow's
 * {@code TaskInstance.defer_task}, which the scheduler calls instead of queueing the task instance.
 *
 * @param tryNumber the try it starts: its current try_number + 1, or the same from up_for_reschedule
 * @param executionTimeout the task's execution_timeout: the deferral's timeout is at most that from now
 */
public record AttemptToDefer(String taskId, int mapIndex, int tryNumber, StartTrigger startTrigger,
                             Optional<Duration> executionTimeout) {

  public AttemptToQueue attempt() {
    return new AttemptToQueue(taskId, mapIndex, tryNumber);
  }
}
