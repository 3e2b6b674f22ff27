package dev.airflowtemporal.core.schedule;

import dev.airflowtemporal.core.dag.Timetable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Optional;

/**
 * The data interval Airflow gives a run of a timetable with a given logical date, for the
 * timetables {@link TimetableSchedules} mirrors (Airflow 3.3, {@code airflow/timetables/}):
 * <ul>
 *   <li>trigger timetables (cron, multiple cron, delta): {@code (logical - interval, logical)};
 *       {@code interval} defaults to zero, so usually {@code (logical, logical)};
 *   <li>{@code CronDataIntervalTimetable}: {@code (logical, next cron tick)};
 *   <li>{@code DeltaDataIntervalTimetable}: {@code (logical, logical + delta)};
 *   <li>{@code @once} and {@code schedule=None}: {@code (logical, logical)}.
 * </ul>
 */
public final class DataIntervals {
  private DataIntervals() {}

  /** Empty for the timetables not listed above and for calendar (relativedelta) lengths. */
  public static Optional<DataInterval> forLogicalDate(Timetable timetable, OffsetDateTime logicalDate) {
    OffsetDateTime logical = logicalDate.withOffsetSameInstant(ZoneOffset.UTC);
    return switch (timetable.type()) {
      case Timetable.NULL_TIMETABLE, Timetable.ONCE_TIMETABLE -> Optional.of(new DataInterval(logical, logical));
      case Timetable.CRON_TRIGGER_TIMETABLE, Timetable.MULTIPLE_CRON_TRIGGER_TIMETABLE, Timetable.DELTA_TRIGGER_TIMETABLE ->
          timetable.interval().map(interval -> new DataInterval(logical.minus(interval), logical));
      case Timetable.CRON_DATA_INTERVAL_TIMETABLE -> timetable.cronExpression().flatMap(expression ->
          timetable.timezone().map(zone -> new DataInterval(logical, utc(CronTicks.next(expression, zone, logical.toInstant())))));
      case Timetable.DELTA_DATA_INTERVAL_TIMETABLE ->
          timetable.delta().map(delta -> new DataInterval(logical, logical.plus(delta)));
      default -> Optional.empty();
    };
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant.atOffset(ZoneOffset.UTC);
  }
}
