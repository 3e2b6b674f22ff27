package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.time.Instant;
import java.util.UUID;

/**
 * A TaskInstance of a run as Airflow's DB has it now, read back by {@link TaskInstanceSettlement#all} (e.g. after
 * Airflow cleared some of them).
 *
 * @param id the current try's {@code task_instance.id}, which {@link TaskInstanceSettlement#transition} takes
 * @param maxTries {@code max_tries}: a clear raises it to try_number + retries, so a cleared task gets
 *     its retries again
 * @param retryDelayOverrideSeconds for up_for_retry: the delay a RetryPolicy chose, or null
 */
public record StoredTaskInstance(UUID id, TaskInstanceRef ref, TaskState state, int tryNumber, int maxTries,
                                 Instant endDate, Double retryDelayOverrideSeconds) {
  static StoredTaskInstance of(TaskInstanceRow t) {
    return new StoredTaskInstance(t.id, new TaskInstanceRef(t.taskId, t.mapIndex), TaskState.fromAirflow(t.state),
        t.tryNumber, t.maxTries == null ? 0 : t.maxTries, t.endDate, t.retryDelayOverride);
  }
}
