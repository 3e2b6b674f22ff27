package dev.airflowtemporal.core.dag;

import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.util.Locale;
import java.util.Set;

/**
 * Whether a cron expression is one Airflow accepts: Airflow validates a cron timetable with
 * croniter, so this checks croniter's syntax, leniently. It refuses what croniter refuses (a wrong
 * number of fields, values out of range, a zero step, unknown characters) and accepts what croniter
 * accepts: 5 fields, or 6 and 7 with seconds and year last, names and {@code ?}, {@code L} and
 * {@code W} in the day of month, {@code #} and 7 (Sunday) in the day of week, wrapping ranges such as
 * {@code 22-2}, and the {@code @} presets. A rare expression croniter refuses may pass (e.g. a
 * {@code #6}); none it accepts is refused.
 */
final class CronSyntax {
  /** croniter's presets; Airflow expands its own before serializing, but accepts these too. */
  private static final Set<String> PRESETS = Set.of("@midnight", "@hourly", "@daily", "@weekly", "@monthly",
      "@quarterly", "@yearly", "@annually");

  private static final CronDefinition CRONITER_FIVE_FIELDS = CronDefinitionBuilder.defineCron()
      .withMinutes().withValidRange(0, 59).and()
      .withHours().withValidRange(0, 23).and()
      .withDayOfMonth().withValidRange(1, 31).supportsL().supportsW().supportsQuestionMark().and()
      .withMonth().withValidRange(1, 12).and()
      .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0).supportsHash()
      .supportsQuestionMark().and()
      .instance();
  private static final CronParser PARSER = new CronParser(CRONITER_FIVE_FIELDS);

  private CronSyntax() {}

  /** Why Airflow would refuse the expression, or null when it accepts it. */
  static String problem(String expression) {
    String trimmed = expression.strip();
    if (PRESETS.contains(trimmed.toLowerCase(Locale.ROOT))) {
      return null;
    }
    String[] fields = trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
    if (fields.length < 5 || fields.length > 7) {
      return "it has " + fields.length + " fields; a cron expression has 5 (minute hour day-of-month month "
          + "day-of-week), optionally followed by seconds and year";
    }
    String problem = parse(String.join(" ", fields[0], fields[1], fields[2], fields[3], fields[4]));
    if (problem == null && fields.length >= 6) {
      // croniter's sixth field is seconds, 0-59 like the minutes: check it in the minutes' place.
      String secondsProblem = parse(fields[5] + " * * * *");
      problem = secondsProblem == null ? null : "seconds field: " + secondsProblem;
    }
    return problem;
  }

  private static String parse(String fiveFields) {
    try {
      // croniter reads names and L/W case-insensitively; cron-utils wants them upper case.
      PARSER.parse(fiveFields.toUpperCase(Locale.ROOT)).validate();
      return null;
    } catch (IllegalArgumentException e) {
      String message = String.valueOf(e.getMessage());
      return message.startsWith("Failed to parse cron expression. ")
          ? message.substring("Failed to parse cron expression. ".length())
          : message;
    }
  }
}
