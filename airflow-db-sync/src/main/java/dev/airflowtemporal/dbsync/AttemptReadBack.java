package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A TaskInstance as its runner left it, read by {@link TaskInstanceSettlement#readBack}.
 *
 * @param id the current {@code task_instance.id}: a new one after up_for_retry, which archives the
 *     finished try to {@code task_instance_history} under the old id
 * @param retryDelayOverrideSeconds the delay a RetryPolicy chose for the next try, or null for the
 *     task's own {@code retry_delay} (Airflow's {@code next_retry_datetime} counts it from {@code endDate})
 * @param skippedByOthers other TaskInstances of the run that became skipped since the given instant,
 *     e.g. the branches a branch operator did not follow, sorted by task id and map index
 */
public record AttemptReadBack(UUID id, TaskState state, int tryNumber, Instant startDate, Instant endDate,
                              Double retryDelayOverrideSeconds, List<TaskInstanceRef> skippedByOthers) {}
