package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskState;
import jakarta.persistence.Tuple;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hibernate.Session;

/**
 * A TaskInstance of a run as Airflow's DB has it now, read back by {@link TaskInstanceSettlement#all} (e.g. after
 * Airflow cleared some of them).
 *
 * @param id the current try's {@code task_instance.id}, which {@link TaskInstanceSettlement#transition} takes
 * @param maxTries {@code max_tries}: a clear raises it to try_number + retries, so a cleared task gets
 *     its retries again
 * @param retryDelayOverrideSeconds for up_for_retry: the delay a RetryPolicy chose, or null
 * @param rescheduleDate for up_for_reschedule: when the sensor asked to poke again (its try's latest
 *     {@code task_reschedule} row), or null
 */
public record StoredTaskInstance(UUID id, TaskInstanceRef ref, TaskState state, int tryNumber, int maxTries,
                                 Instant endDate, Double retryDelayOverrideSeconds, Instant rescheduleDate) {
  /**
   * The rows as read, each up_for_reschedule one with its reschedule date, looked up in the caller's session:
   * one query for all of them, on Airflow's index {@code idx_task_reschedule_ti_id_id_desc}.
   */
  static List<StoredTaskInstance> of(Session session, List<TaskInstanceRow> rows) {
    List<UUID> rescheduled = rows.stream()
        .filter(t -> TaskState.fromAirflow(t.state) == TaskState.UP_FOR_RESCHEDULE).map(t -> t.id).toList();
    Map<UUID, Instant> dates = new HashMap<>();
    if (!rescheduled.isEmpty()) {
      session.createNativeQuery("""
              select distinct on (ti_id) ti_id, reschedule_date from task_reschedule where ti_id in (:ids)
              order by ti_id, id desc""", Tuple.class)
          .setParameterList("ids", rescheduled, UUID.class)
          .getResultList()
          .forEach(row -> dates.put(row.get("ti_id", UUID.class), row.get("reschedule_date", Instant.class)));
    }
    return rows.stream().map(t -> new StoredTaskInstance(t.id, new TaskInstanceRef(t.taskId, t.mapIndex),
        TaskState.fromAirflow(t.state), t.tryNumber, t.maxTries == null ? 0 : t.maxTries, t.endDate,
        t.retryDelayOverride, dates.get(t.id))).toList();
  }
}
