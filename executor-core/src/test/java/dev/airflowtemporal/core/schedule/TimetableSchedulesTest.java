package dev.airflowtemporal.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.core.dag.SerializedDagParser;
import dev.airflowtemporal.core.dag.Timetable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Timetables as Airflow 3.3's {@code encode_timetable} writes them, and the schedule each becomes. */
class TimetableSchedulesTest {
  static Stream<Arguments> mirrored() {
    return Stream.of(
        Arguments.of("@daily in a named timezone",
            """
            {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "0 0 * * *",
             "timezone": "Europe/Amsterdam", "interval": 0.0, "run_immediately": false}}""",
            DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 0 * * *"), "Europe/Amsterdam", false)),
        Arguments.of("a whole-hour fixed offset gets its Etc/ name (sign inverted)",
            """
            {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "0 * * * *",
             "timezone": 3600, "interval": 3600.0, "run_immediately": false}}""",
            DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 * * * *"), "Etc/GMT-1", false)),
        Arguments.of("every expression of a MultipleCronTriggerTimetable",
            """
            {"__type": "airflow.timetables.trigger.MultipleCronTriggerTimetable", "__var": {"expressions":
             ["0 1 * * *", "30 2 * * 1"], "timezone": "UTC", "interval": 0.0, "run_immediately": false}}""",
            DagSchedule.cron(Timetable.MULTIPLE_CRON_TRIGGER_TIMETABLE, List.of("0 1 * * *", "30 2 * * 1"), "UTC", false)),
        Arguments.of("CronDataIntervalTimetable fires at the end of each interval",
            """
            {"__type": "airflow.timetables.interval.CronDataIntervalTimetable", "__var": {"expression": "0 * * * *",
             "timezone": "UTC"}}""",
            DagSchedule.cron(Timetable.CRON_DATA_INTERVAL_TIMETABLE, List.of("0 * * * *"), "UTC", true)),
        Arguments.of("DeltaTriggerTimetable",
            """
            {"__type": "airflow.timetables.trigger.DeltaTriggerTimetable", "__var": {"delta": 1800.0, "interval": 0.0}}""",
            DagSchedule.every(Timetable.DELTA_TRIGGER_TIMETABLE, Duration.ofMinutes(30), false)),
        Arguments.of("DeltaDataIntervalTimetable",
            """
            {"__type": "airflow.timetables.interval.DeltaDataIntervalTimetable", "__var": {"delta": 86400.0}}""",
            DagSchedule.every(Timetable.DELTA_DATA_INTERVAL_TIMETABLE, Duration.ofDays(1), true)),
        Arguments.of("@once",
            """
            {"__type": "airflow.timetables.simple.OnceTimetable", "__var": {}}""",
            DagSchedule.once(Timetable.ONCE_TIMETABLE)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("mirrored")
  void mirroredTimetables(String name, String timetableJson, DagSchedule expected) {
    assertThat(TimetableSchedules.scheduleFor(timetable(timetableJson)))
        .isEqualTo(new ScheduleMapping.Scheduled(expected));
  }

  static Stream<Arguments> notMirrored() {
    return Stream.of(
        Arguments.of("""
            {"__type": "airflow.timetables.simple.NullTimetable", "__var": {}}""", "runs only when triggered"),
        Arguments.of("""
            {"__type": "airflow.timetables.simple.AssetTriggeredTimetable", "__var": {"asset_condition": {}}}""",
            "asset-triggered"),
        Arguments.of("""
            {"__type": "airflow.timetables.assets.AssetOrTimeSchedule", "__var": {}}""", "asset-triggered"),
        Arguments.of("""
            {"__type": "airflow.timetables.simple.ContinuousTimetable", "__var": {}}""",
            "only cron, delta and @once timetables are"),
        Arguments.of("""
            {"__type": "airflow.timetables.events.EventsTimetable", "__var": {"event_dates": []}}""",
            "only cron, delta and @once timetables are"),
        Arguments.of("""
            {"__type": "airflow.timetables.trigger.DeltaTriggerTimetable", "__var": {"delta": {"months": 1},
             "interval": 0.0}}""", "calendar delta (relativedelta)"),
        Arguments.of("""
            {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "0 0 1 * *",
             "timezone": "UTC", "interval": {"months": 1}, "run_immediately": false}}""",
            "calendar interval (relativedelta)"),
        Arguments.of("""
            {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "0 0 * * *",
             "timezone": 19800, "interval": 0.0, "run_immediately": false}}""", "not a whole number of hours"),
        Arguments.of("""
            {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "0 0 * * * * *",
             "timezone": "UTC", "interval": 0.0, "run_immediately": false}}""", "cannot be evaluated"),
        Arguments.of("""
            {"__type": "airflow.timetables.interval.DeltaDataIntervalTimetable", "__var": {"delta": 0.5}}""",
            "not a positive whole number of seconds"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("notMirrored")
  void timetablesWithoutATemporalCounterpartSayWhy(String timetableJson, String reason) {
    ScheduleMapping mapping = TimetableSchedules.scheduleFor(timetable(timetableJson));
    assertThat(mapping).isInstanceOfSatisfying(ScheduleMapping.NotScheduled.class,
        notScheduled -> assertThat(notScheduled.reason()).contains(reason));
  }

  /** The timetable of a minimal serialized DAG, read by the real parser. */
  static Timetable timetable(String timetableJson) {
    String dag = """
        {"__version": 3, "dag": {"dag_id": "d", "fileloc": "d.py", "timetable": %s,
          "tasks": [{"__type": "operator", "__var": {"task_id": "only"}}]}}""".formatted(timetableJson);
    return SerializedDagParser.parse(dag.getBytes(StandardCharsets.UTF_8)).timetable();
  }
}
