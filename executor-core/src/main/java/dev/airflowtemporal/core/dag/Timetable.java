package dev.airflowtemporal.core.dag;

import java.time.ZoneId;
import java.util.Objects;
import java.util.Optional;

/**
 * A DAG's schedule as serialized by Airflow: the timetable's class and, for the cron-based
 * timetables, the cron expression and the timezone it is evaluated in.
 *
 * @param type fully qualified Airflow class, e.g. {@code airflow.timetables.simple.NullTimetable}
 *     for {@code schedule=None}
 * @param cronExpression the expression of a single-cron timetable, empty otherwise
 * @param timezone the timezone a cron expression is evaluated in, empty when there is no cron
 */
public record Timetable(String type, Optional<String> cronExpression, Optional<ZoneId> timezone) {
  public static final String NULL_TIMETABLE = "airflow.timetables.simple.NullTimetable";
  public static final String CRON_TRIGGER_TIMETABLE = "airflow.timetables.trigger.CronTriggerTimetable";

  public Timetable {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(cronExpression, "cronExpression");
    Objects.requireNonNull(timezone, "timezone");
  }

  /** {@code schedule=None}: runs only when triggered. */
  public boolean isManualOnly() {
    return NULL_TIMETABLE.equals(type);
  }
}
