package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A DAG's schedule as serialized by Airflow: the timetable's class and the parameters of the
 * cron- and delta-based timetables.
 *
 * @param type fully qualified Airflow class, e.g. {@code airflow.timetables.simple.NullTimetable}
 *     for {@code schedule=None}
 * @param cronExpression the expression of a single-cron timetable, empty otherwise
 * @param timezone the timezone the cron expression(s) are evaluated in, empty when there is no cron
 * @param cronExpressions every cron expression: the single one, or all of a
 *     {@code MultipleCronTriggerTimetable}; empty when there is no cron
 * @param delta the period of a delta timetable when it is a fixed {@code timedelta}; empty for the
 *     other timetables and for a calendar {@code relativedelta} (e.g. one month)
 * @param interval the data interval length of the trigger timetables ({@code interval=}, zero by
 *     default and for every other timetable); empty when it is a calendar {@code relativedelta}
 */
public record Timetable(String type, Optional<String> cronExpression, Optional<ZoneId> timezone,
                        List<String> cronExpressions, Optional<Duration> delta, Optional<Duration> interval) {
  public static final String NULL_TIMETABLE = "airflow.timetables.simple.NullTimetable";
  public static final String ONCE_TIMETABLE = "airflow.timetables.simple.OnceTimetable";
  public static final String CRON_TRIGGER_TIMETABLE = "airflow.timetables.trigger.CronTriggerTimetable";
  public static final String MULTIPLE_CRON_TRIGGER_TIMETABLE = "airflow.timetables.trigger.MultipleCronTriggerTimetable";
  public static final String DELTA_TRIGGER_TIMETABLE = "airflow.timetables.trigger.DeltaTriggerTimetable";
  public static final String CRON_DATA_INTERVAL_TIMETABLE = "airflow.timetables.interval.CronDataIntervalTimetable";
  public static final String DELTA_DATA_INTERVAL_TIMETABLE = "airflow.timetables.interval.DeltaDataIntervalTimetable";

  public Timetable {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(cronExpression, "cronExpression");
    Objects.requireNonNull(timezone, "timezone");
    cronExpressions = List.copyOf(cronExpressions);
    Objects.requireNonNull(delta, "delta");
    Objects.requireNonNull(interval, "interval");
  }

  /** A timetable with at most one cron expression, no delta and a zero interval. */
  public Timetable(String type, Optional<String> cronExpression, Optional<ZoneId> timezone) {
    this(type, cronExpression, timezone, cronExpression.map(List::of).orElse(List.of()), Optional.empty(),
        Optional.of(Duration.ZERO));
  }

  /** {@code schedule=None}: runs only when triggered. */
  public boolean isManualOnly() {
    return NULL_TIMETABLE.equals(type);
  }
}
