package dev.airflowtemporal.core.schedule;

import static dev.airflowtemporal.core.schedule.TimetableSchedulesTest.timetable;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.core.dag.Timetable;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A firing's logical date and its run's data interval, against what Airflow 3.3's own timetables
 * compute ({@code _get_prev}/{@code _get_next}, {@code DagRunInfo.interval}; values printed with the
 * venv's Airflow).
 */
class RunDatesAndDataIntervalsTest {
  static Stream<Arguments> firings() {
    return Stream.of(
        Arguments.of("cron trigger: logical date = firing, interval (logical, logical)",
            cron("CronTriggerTimetable", "0 9 * * 1-5", "\"Europe/Amsterdam\"", ", \"interval\": 0.0"),
            "2026-03-30T07:00:00Z", "2026-03-30T07:00:00Z", "2026-03-30T07:00:00Z"),
        Arguments.of("cron trigger with interval=1h: (logical - 1h, logical)",
            cron("CronTriggerTimetable", "0 * * * *", "\"UTC\"", ", \"interval\": 3600.0"),
            "2026-05-01T10:00:00Z", "2026-05-01T10:00:00Z", "2026-05-01T09:00:00Z"),
        Arguments.of("cron data interval across a DST switch: logical = previous weekday tick",
            cron("CronDataIntervalTimetable", "0 9 * * 1-5", "\"Europe/Amsterdam\"", ""),
            "2026-03-30T07:00:00Z", "2026-03-27T08:00:00Z", "2026-03-27T08:00:00Z"),
        Arguments.of("cron data interval: day-of-month OR day-of-week, as croniter",
            cron("CronDataIntervalTimetable", "0 0 1 * 1", "\"UTC\"", ""),
            "2026-06-08T00:00:00Z", "2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        Arguments.of("cron data interval: the monthly tick is preceded by the Monday one",
            cron("CronDataIntervalTimetable", "0 0 1 * 1", "\"UTC\"", ""),
            "2026-06-01T00:00:00Z", "2026-05-25T00:00:00Z", "2026-05-25T00:00:00Z"),
        Arguments.of("delta trigger: logical date = firing",
            "{\"__type\": \"airflow.timetables.trigger.DeltaTriggerTimetable\", \"__var\": {\"delta\": 1800.0, \"interval\": 600.0}}",
            "2026-05-01T10:30:00Z", "2026-05-01T10:30:00Z", "2026-05-01T10:20:00Z"),
        Arguments.of("delta data interval: logical date = firing - delta",
            "{\"__type\": \"airflow.timetables.interval.DeltaDataIntervalTimetable\", \"__var\": {\"delta\": 86400.0}}",
            "2026-05-02T00:00:00Z", "2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        Arguments.of("@once: logical date = firing",
            "{\"__type\": \"airflow.timetables.simple.OnceTimetable\", \"__var\": {}}",
            "2026-05-01T10:11:12.345Z", "2026-05-01T10:11:12.345Z", "2026-05-01T10:11:12.345Z"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("firings")
  void aFiringBecomesARunWithAirflowsDates(String name, String timetableJson, String firing, String logicalDate,
      String intervalStart) {
    Timetable timetable = timetable(timetableJson);
    DagSchedule schedule = ((ScheduleMapping.Scheduled) TimetableSchedules.scheduleFor(timetable)).schedule();

    RunDates dates = schedule.runDatesOf(Instant.parse(firing));

    assertThat(dates.runAfter()).isEqualTo(utc(firing));
    assertThat(dates.logicalDate()).isEqualTo(utc(logicalDate));
    // The run's interval, derived from its logical date alone, ends when the firing happened
    // (for the trigger timetables, at the logical date itself).
    assertThat(DataIntervals.forLogicalDate(timetable, dates.logicalDate()))
        .contains(new DataInterval(utc(intervalStart), schedule.firingEndsDataInterval() ? utc(firing) : utc(logicalDate)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("manualOnlyAndUnsupported")
  void dataIntervalOfTimetablesWithoutSchedules(String timetableJson, boolean exact) {
    OffsetDateTime logical = utc("2026-05-01T10:00:00Z");
    if (exact) {
      assertThat(DataIntervals.forLogicalDate(timetable(timetableJson), logical)).contains(new DataInterval(logical, logical));
    } else {
      assertThat(DataIntervals.forLogicalDate(timetable(timetableJson), logical)).isEmpty();
    }
  }

  static Stream<Arguments> manualOnlyAndUnsupported() {
    return Stream.of(
        Arguments.of("{\"__type\": \"airflow.timetables.simple.NullTimetable\", \"__var\": {}}", true),
        Arguments.of("{\"__type\": \"airflow.timetables.simple.AssetTriggeredTimetable\", \"__var\": {}}", false),
        Arguments.of("{\"__type\": \"airflow.timetables.trigger.DeltaTriggerTimetable\", \"__var\": {\"delta\": 60.0,"
            + " \"interval\": {\"months\": 1}}}", false));
  }

  private static String cron(String type, String expression, String timezone, String extra) {
    String module = type.startsWith("Cron") && type.contains("DataInterval") ? "interval" : "trigger";
    return "{\"__type\": \"airflow.timetables." + module + "." + type + "\", \"__var\": {\"expression\": \""
        + expression + "\", \"timezone\": " + timezone + extra + "}}";
  }

  private static OffsetDateTime utc(String instant) {
    return OffsetDateTime.parse(instant);
  }
}
