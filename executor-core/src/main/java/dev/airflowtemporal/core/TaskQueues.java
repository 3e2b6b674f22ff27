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

  public static String forAirflowQueue(String baseTaskQueue, String airflowQueue) {
    if (airflowQueue == null || airflowQueue.isBlank()) {
      return baseTaskQueue;
    }
    return baseTaskQueue + ":" + airflowQueue;
  }
}
