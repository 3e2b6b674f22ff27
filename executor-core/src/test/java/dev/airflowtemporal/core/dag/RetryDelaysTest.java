package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Expected delays come from Airflow 3.3.2's {@code TaskInstance.next_retry_datetime} formula run in
 * Python on the same inputs (sha1 of {@code dag#task#str(logical_date)#try}).
 */
class RetryDelaysTest {
  private static final Instant END = Instant.parse("2026-11-23T08:05:00Z");

  @Test
  void constantDelayIsTheTasksRetryDelay() {
    assertThat(RetryDelays.nextRetryAt("d", task(Duration.ofSeconds(300), 0, null), null, 1, END, null))
        .isEqualTo(END.plusSeconds(300));
  }

  @Test
  void aRetryPolicyOverrideWins() {
    assertThat(RetryDelays.nextRetryAt("d", task(Duration.ofSeconds(300), 2.0, null), null, 1, END, 2.5))
        .isEqualTo(END.plusMillis(2500));
  }

  @ParameterizedTest
  @CsvSource({
      "2026-11-23T08:00:00Z,        1, 10, 2.0, 0,   10",
      "2026-11-23T08:00:00Z,        3, 10, 2.0, 0,   46",
      ",                            2, 1,  3.0, 0,   5",
      "2026-11-23T08:00:00.25Z,     4, 30, 2.0, 100, 100",
  })
  void exponentialBackoffMatchesAirflowsJitteredDelay(String logicalDate, int tryNumber, long delaySeconds,
                                                       double multiplier, long maxDelaySeconds, long expectedSeconds) {
    TaskPlan task = task(Duration.ofSeconds(delaySeconds), multiplier,
        maxDelaySeconds == 0 ? null : Duration.ofSeconds(maxDelaySeconds));
    OffsetDateTime logical = logicalDate == null ? null : OffsetDateTime.parse(logicalDate);
    assertThat(RetryDelays.nextRetryAt("d", task, logical, tryNumber, END, null))
        .isEqualTo(END.plusSeconds(expectedSeconds));
  }

  @Test
  void logicalDatesHashAsPythonPrintsThem() {
    assertThat(RetryDelays.pythonStr(OffsetDateTime.parse("2026-11-23T09:00:00.25+01:00")))
        .isEqualTo("2026-11-23 08:00:00.250000+00:00");
    assertThat(RetryDelays.pythonStr(OffsetDateTime.parse("2026-11-23T08:00:00Z"))).isEqualTo("2026-11-23 08:00:00+00:00");
    assertThat(RetryDelays.pythonStr(null)).isEqualTo("None");
  }

  private static TaskPlan task(Duration retryDelay, double backoff, Duration maxDelay) {
    return new TaskPlan("t", "airflow.providers.standard.operators.bash.BashOperator", null, null, List.of(), List.of(),
        TriggerRule.ALL_SUCCESS, 3, retryDelay, backoff, Optional.ofNullable(maxDelay), Optional.empty(),
        "default_pool", 1, "default", 1, "downstream", Optional.empty(), Optional.empty(), List.of(), false, false, false,
        Optional.empty());
  }
}
