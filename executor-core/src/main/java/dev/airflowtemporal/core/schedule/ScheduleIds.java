package dev.airflowtemporal.core.schedule;

import java.util.Objects;
import java.util.Optional;

/**
 * Ids of the Temporal Schedules that mirror DAG timetables: {@code airflow-dag:{dag_id}}. The prefix
 * marks the schedules airflow-temporal manages; every other schedule in the namespace is left alone.
 */
public final class ScheduleIds {
  public static final String PREFIX = "airflow-dag:";

  private ScheduleIds() {}

  public static String forDag(String dagId) {
    Objects.requireNonNull(dagId, "dag_id");
    if (dagId.isEmpty()) {
      throw new IllegalArgumentException("dag_id must be non-empty");
    }
    return PREFIX + dagId;
  }

  /** The DAG a managed schedule mirrors; empty for a schedule that is not ours. */
  public static Optional<String> dagIdOf(String scheduleId) {
    if (scheduleId == null || !scheduleId.startsWith(PREFIX) || scheduleId.length() == PREFIX.length()) {
      return Optional.empty();
    }
    return Optional.of(scheduleId.substring(PREFIX.length()));
  }
}
