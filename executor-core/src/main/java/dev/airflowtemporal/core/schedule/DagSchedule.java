package dev.airflowtemporal.core.schedule;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;

/**
 * When a DAG's runs are due, in the terms of a Temporal Schedule spec, and how one firing becomes a
 * run. It is also the argument of the schedule's action, so a worker can tell from an existing
 * schedule whether it still matches the DAG.
 *
 * @param timetable the Airflow timetable class it was derived from
 * @param cronExpressions fire at every tick of these five-field crons, evaluated in {@code timezone};
 *     empty unless a cron timetable
 * @param timezone IANA name of the timezone the crons are evaluated in; {@code UTC} otherwise
 * @param every fire once per period, aligned to the Unix epoch; null unless a delta timetable
 * @param once fire a single time, when the schedule is created ({@code @once})
 * @param firingEndsDataInterval for the data-interval timetables: a firing closes the interval the run
 *     is for, so the run's logical date is that interval's start, one period before the firing
 */
public record DagSchedule(String timetable, List<String> cronExpressions, String timezone, Duration every,
                          boolean once, boolean firingEndsDataInterval) {
  public DagSchedule {
    Objects.requireNonNull(timetable, "timetable");
    cronExpressions = cronExpressions == null ? List.of() : List.copyOf(cronExpressions);
    Objects.requireNonNull(timezone, "timezone");
    int kinds = (cronExpressions.isEmpty() ? 0 : 1) + (every == null ? 0 : 1) + (once ? 1 : 0);
    if (kinds != 1) {
      throw new IllegalArgumentException("a schedule is exactly one of cron expressions, an interval or once");
    }
    if (firingEndsDataInterval && cronExpressions.size() > 1) {
      throw new IllegalArgumentException("a data-interval schedule has a single cron expression");
    }
  }

  public static DagSchedule cron(String timetable, List<String> expressions, String timezone, boolean firingEndsDataInterval) {
    return new DagSchedule(timetable, expressions, timezone, null, false, firingEndsDataInterval);
  }

  public static DagSchedule every(String timetable, Duration every, boolean firingEndsDataInterval) {
    return new DagSchedule(timetable, List.of(), "UTC", every, false, firingEndsDataInterval);
  }

  public static DagSchedule once(String timetable) {
    return new DagSchedule(timetable, List.of(), "UTC", null, true, false);
  }

  /** The dates of the run created by the firing at {@code firing} (Temporal's scheduled time). */
  public RunDates runDatesOf(Instant firing) {
    Instant logical = !firingEndsDataInterval ? firing
        : every != null ? firing.minus(every)
        : CronTicks.previous(cronExpressions.get(0), ZoneId.of(timezone), firing);
    return new RunDates(logical.atOffset(ZoneOffset.UTC), firing.atOffset(ZoneOffset.UTC));
  }
}
