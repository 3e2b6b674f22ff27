package dev.airflowtemporal.core.schedule;

import java.time.OffsetDateTime;
import java.util.Objects;

/**
 * The dates of the DagRun one schedule firing creates.
 *
 * @param logicalDate the run's logical date (its run id derives from it), in UTC
 * @param runAfter when the run became due: the firing time, in UTC
 */
public record RunDates(OffsetDateTime logicalDate, OffsetDateTime runAfter) {
  public RunDates {
    Objects.requireNonNull(logicalDate, "logicalDate");
    Objects.requireNonNull(runAfter, "runAfter");
  }
}
