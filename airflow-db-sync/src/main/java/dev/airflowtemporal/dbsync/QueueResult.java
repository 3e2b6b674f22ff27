package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.util.UUID;

/** What {@link TaskInstanceQueueing#queue} did with one attempt asked for, with the pool's figures when it was full. */
public sealed interface QueueResult {
  TaskInstanceRef task();

  /**
   * The attempt is queued (now, or by an earlier call with the same request) or has started since.
   *
   * @param id the {@code task_instance.id} the runner's workload must carry
   */
  record Queued(TaskInstanceRef task, UUID id, int tryNumber) implements QueueResult {}

  /**
   * The pool has fewer open slots than the task needs; the TaskInstance was left as it was. When
   * {@code requiredSlots} exceeds {@code totalSlots} it can never run in this pool.
   */
  record PoolFull(TaskInstanceRef task, String pool, int requiredSlots, long openSlots, int totalSlots)
      implements QueueResult {}

  /**
   * The TaskInstance is in neither the state the request starts from (None or up_for_retry, one try
   * before the expected) nor the one it leads to: e.g. a branch skipped it, or another try runs.
   * Nothing changed.
   */
  record NotQueueable(TaskInstanceRef task, TaskState state, int tryNumber) implements QueueResult {}

  /**
   * The try started in Airflow's triggerer ({@link TaskInstanceDeferral}): deferred with its trigger row, now or by an
   * earlier call with the same request (it may have been resumed or ended since).
   */
  record Deferred(TaskInstanceRef task, int tryNumber) implements QueueResult {}
}
