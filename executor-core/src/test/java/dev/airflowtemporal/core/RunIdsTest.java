package dev.airflowtemporal.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.OffsetDateTime;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RunIdsTest {
  /** Expected values are what Python prints for {@code "external__" + dt.astimezone(timezone.utc).isoformat()}. */
  @ParameterizedTest
  @CsvSource({
      "2026-11-23T08:00:00Z, external__2026-11-23T08:00:00+00:00",
      "2026-11-23T08:00:00.25Z, external__2026-11-23T08:00:00.250000+00:00",
      "2026-11-23T09:30:00.000001+01:30, external__2026-11-23T08:00:00.000001+00:00",
  })
  void externalRunIdsReadAsPythonsIsoformatInUtc(String runAfter, String expected) {
    assertThat(RunIds.external(OffsetDateTime.parse(runAfter))).isEqualTo(expected);
  }
}
