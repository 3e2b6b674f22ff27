package dev.airflowtemporal.core.schedule;

import java.util.Objects;

/** The schedule an opted-in DAG should have, paused exactly when the DAG is. */
public record DesiredSchedule(String dagId, DagSchedule schedule, boolean paused) {
  public DesiredSchedule {
    Objects.requireNonNull(dagId, "dagId");
    Objects.requireNonNull(schedule, "schedule");
  }
}
