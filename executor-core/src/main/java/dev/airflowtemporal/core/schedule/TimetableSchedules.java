package dev.airflowtemporal.core.schedule;

import dev.airflowtemporal.core.dag.Timetable;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * Maps an Airflow timetable onto the Temporal Schedule that fires when Airflow's scheduler would
 * create a run: the cron and delta timetables and {@code @once}. Everything else (no schedule,
 * assets, events, continuous, partitions, plugins' timetables) has no Temporal counterpart.
 */
public final class TimetableSchedules {
  private TimetableSchedules() {}

  public static ScheduleMapping scheduleFor(Timetable timetable) {
    String type = timetable.type();
    return switch (type) {
      case Timetable.NULL_TIMETABLE -> new ScheduleMapping.NotScheduled("schedule=None: the DAG runs only when triggered");
      case Timetable.ONCE_TIMETABLE -> new ScheduleMapping.Scheduled(DagSchedule.once(type));
      case Timetable.CRON_TRIGGER_TIMETABLE, Timetable.MULTIPLE_CRON_TRIGGER_TIMETABLE -> cron(timetable, false);
      case Timetable.CRON_DATA_INTERVAL_TIMETABLE -> cron(timetable, true);
      case Timetable.DELTA_TRIGGER_TIMETABLE -> delta(timetable, false);
      case Timetable.DELTA_DATA_INTERVAL_TIMETABLE -> delta(timetable, true);
      default -> new ScheduleMapping.NotScheduled(type.startsWith("airflow.timetables.assets.")
          || type.equals("airflow.timetables.simple.AssetTriggeredTimetable")
          || type.equals("airflow.timetables.simple.PartitionedAssetTimetable")
          ? "asset-triggered timetable " + type + " is not mirrored: asset events are Airflow's"
          : "timetable " + type + " is not mirrored: only cron, delta and @once timetables are");
    };
  }

  private static ScheduleMapping cron(Timetable timetable, boolean firingEndsDataInterval) {
    if (timetable.cronExpressions().isEmpty() || timetable.timezone().isEmpty()) {
      return new ScheduleMapping.NotScheduled(timetable.type() + " without a cron expression and timezone");
    }
    for (String expression : timetable.cronExpressions()) {
      String problem = CronTicks.problem(expression);
      if (problem != null) {
        return new ScheduleMapping.NotScheduled("cron '" + expression + "' cannot be evaluated: " + problem);
      }
    }
    if (!firingEndsDataInterval && timetable.interval().isEmpty()) {
      return calendarLength("interval");
    }
    ZoneId zone = timetable.timezone().get();
    String zoneName = temporalZoneName(zone);
    if (zoneName == null) {
      return new ScheduleMapping.NotScheduled("timezone " + zone + " is a fixed offset that is not a whole number "
          + "of hours, which Temporal cannot name; use a named timezone");
    }
    return new ScheduleMapping.Scheduled(
        DagSchedule.cron(timetable.type(), timetable.cronExpressions(), zoneName, firingEndsDataInterval));
  }

  private static ScheduleMapping delta(Timetable timetable, boolean firingEndsDataInterval) {
    if (timetable.delta().isEmpty()) {
      return calendarLength("delta");
    }
    Duration delta = timetable.delta().get();
    if (delta.isNegative() || delta.compareTo(Duration.ofSeconds(1)) < 0 || delta.getNano() != 0) {
      return new ScheduleMapping.NotScheduled("delta " + delta + " is not a positive whole number of seconds");
    }
    if (!firingEndsDataInterval && timetable.interval().isEmpty()) {
      return calendarLength("interval");
    }
    return new ScheduleMapping.Scheduled(DagSchedule.every(timetable.type(), delta, firingEndsDataInterval));
  }

  private static ScheduleMapping calendarLength(String field) {
    return new ScheduleMapping.NotScheduled("a calendar " + field + " (relativedelta) is not supported; "
        + "use a timedelta or a cron expression");
  }

  /**
   * Temporal evaluates crons in a named (IANA) timezone. Airflow serializes a fixed offset as seconds;
   * whole hours have a name: {@code Etc/GMT-1} is UTC+1 (POSIX inverts the sign).
   */
  static String temporalZoneName(ZoneId zone) {
    if (!(zone instanceof ZoneOffset offset)) {
      return zone.getId();
    }
    int seconds = offset.getTotalSeconds();
    if (seconds == 0) {
      return "UTC";
    }
    if (seconds % 3600 != 0 || seconds / 3600 < -12 || seconds / 3600 > 14) {
      return null;
    }
    int hours = seconds / 3600;
    return "Etc/GMT" + (hours > 0 ? "-" : "+") + Math.abs(hours);
  }
}
