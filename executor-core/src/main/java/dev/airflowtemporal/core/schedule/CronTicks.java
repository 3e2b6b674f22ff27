package dev.airflowtemporal.core.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;

/**
 * The ticks of a five-field (POSIX) cron expression in a timezone: what Airflow's croniter computes
 * for a cron timetable, where a data interval runs from one tick to the next.
 */
final class CronTicks {
  private static final CronParser POSIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  private CronTicks() {}

  /** Why the expression cannot be evaluated, or null when it can. */
  static String problem(String expression) {
    try {
      POSIX.parse(expression).validate();
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** The last tick strictly before {@code instant}. */
  static Instant previous(String expression, ZoneId zone, Instant instant) {
    return executionTime(expression).lastExecution(ZonedDateTime.ofInstant(instant, zone))
        .orElseThrow(() -> new IllegalArgumentException("cron '" + expression + "' has no tick before " + instant))
        .toInstant();
  }

  /** The first tick strictly after {@code instant}. */
  static Instant next(String expression, ZoneId zone, Instant instant) {
    return executionTime(expression).nextExecution(ZonedDateTime.ofInstant(instant, zone))
        .orElseThrow(() -> new IllegalArgumentException("cron '" + expression + "' has no tick after " + instant))
        .toInstant();
  }

  private static ExecutionTime executionTime(String expression) {
    Cron cron = POSIX.parse(expression);
    return ExecutionTime.forCron(cron);
  }
}
