package dev.airflowtemporal.core;

/**
 * Maps an Airflow task's {@code queue=} to the Temporal task queue its activities are scheduled on.
 *
 * <p>The executor sends no queue (null) for Airflow's default queue ({@code [operators]
 * default_queue}); such tasks run on the base task queue, the one the workflows use too. Any other
 * queue {@code Q} runs on {@code <base>:Q}, so only workers started with {@code --queues Q} (on the
 * hosts chosen for it) pick those tasks up.
 */
public final class TaskQueues {
  private TaskQueues() {}

  /**
   * The task queue only one worker process polls: where a workflow asks that process for a runner
   * it started (see RunnerWhereabouts). A process started again gets a new id, so a question meant
   * for a dead process waits unanswered until its schedule-to-start timeout.
   */
  public static String forWorkerProcess(String baseTaskQueue, String processId) {
    return baseTaskQueue + "/worker-process/" + processId;
  }

  public static String forAirflowQueue(String baseTaskQueue, String airflowQueue) {
    if (airflowQueue == null || airflowQueue.isBlank()) {
      return baseTaskQueue;
    }
    return baseTaskQueue + ":" + airflowQueue;
  }
}
