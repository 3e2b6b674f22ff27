package dev.airflowtemporal.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airflowtemporal.core.dag.Timetable;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScheduleDiffTest {
  private static final DagSchedule HOURLY =
      DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 * * * *"), "UTC", false);
  private static final DagSchedule DAILY =
      DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 0 * * *"), "UTC", false);
  private static final DagSchedule EVERY_10_MIN =
      DagSchedule.every(Timetable.DELTA_TRIGGER_TIMETABLE, Duration.ofMinutes(10), false);

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("nothing on either side", List.of(), List.of(), List.of()),
        Arguments.of("a newly opted-in DAG is created, paused as the DAG is",
            List.of(new DesiredSchedule("a", HOURLY, true)), List.of(),
            List.of(new ScheduleChange.Create("a", HOURLY, true))),
        Arguments.of("an unchanged schedule is left alone",
            List.of(new DesiredSchedule("a", HOURLY, false)), List.of(new ExistingSchedule("a", HOURLY, false)),
            List.of()),
        Arguments.of("a changed cron is an update",
            List.of(new DesiredSchedule("a", DAILY, false)), List.of(new ExistingSchedule("a", HOURLY, false)),
            List.of(new ScheduleChange.Update("a", DAILY, false))),
        Arguments.of("cron to delta is an update that also carries the paused state",
            List.of(new DesiredSchedule("a", EVERY_10_MIN, true)), List.of(new ExistingSchedule("a", HOURLY, false)),
            List.of(new ScheduleChange.Update("a", EVERY_10_MIN, true))),
        Arguments.of("an unreadable action counts as changed",
            List.of(new DesiredSchedule("a", HOURLY, false)), List.of(new ExistingSchedule("a", null, false)),
            List.of(new ScheduleChange.Update("a", HOURLY, false))),
        Arguments.of("the DAG was paused",
            List.of(new DesiredSchedule("a", HOURLY, true)), List.of(new ExistingSchedule("a", HOURLY, false)),
            List.of(new ScheduleChange.Pause("a"))),
        Arguments.of("the DAG was unpaused",
            List.of(new DesiredSchedule("a", HOURLY, false)), List.of(new ExistingSchedule("a", HOURLY, true)),
            List.of(new ScheduleChange.Unpause("a"))),
        Arguments.of("a DAG that opted out or vanished loses its schedule",
            List.of(), List.of(new ExistingSchedule("gone", HOURLY, false)),
            List.of(new ScheduleChange.Delete("gone"))),
        Arguments.of("several DAGs: one change each, ordered by dag_id",
            List.of(new DesiredSchedule("c", HOURLY, false), new DesiredSchedule("a", DAILY, false),
                new DesiredSchedule("d", HOURLY, true)),
            List.of(new ExistingSchedule("b", HOURLY, false), new ExistingSchedule("a", HOURLY, false),
                new ExistingSchedule("d", HOURLY, false)),
            List.of(new ScheduleChange.Update("a", DAILY, false), new ScheduleChange.Delete("b"),
                new ScheduleChange.Create("c", HOURLY, false), new ScheduleChange.Pause("d"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void diff(String name, List<DesiredSchedule> desired, List<ExistingSchedule> existing, List<ScheduleChange> expected) {
    assertThat(ScheduleDiff.between(desired, existing)).containsExactlyElementsOf(expected);
  }

  @Test
  void twoDesiredSchedulesForOneDagAreABug() {
    assertThatThrownBy(() -> ScheduleDiff.between(
        List.of(new DesiredSchedule("a", HOURLY, false), new DesiredSchedule("a", DAILY, false)), List.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a'");
  }

  @Test
  void scheduleIdsRoundTripAndIgnoreForeignSchedules() {
    assertThat(ScheduleIds.forDag("etl.daily")).isEqualTo("airflow-dag:etl.daily");
    assertThat(ScheduleIds.dagIdOf("airflow-dag:etl.daily")).contains("etl.daily");
    assertThat(ScheduleIds.dagIdOf("nightly-report")).isEmpty();
    assertThat(ScheduleIds.dagIdOf("airflow-dag:")).isEmpty();
  }
}
