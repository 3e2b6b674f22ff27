package dev.airflowtemporal.core.schedule;

import java.time.OffsetDateTime;
import java.util.Objects;

/** A DagRun's {@code data_interval_start} and {@code data_interval_end}, in UTC. */
public record DataInterval(OffsetDateTime start, OffsetDateTime end) {
  public DataInterval {
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
    if (end.isBefore(start)) {
      throw new IllegalArgumentException("data interval ends (" + end + ") before it starts (" + start + ")");
    }
  }
}
