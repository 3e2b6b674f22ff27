package dev.airflowtemporal.core.schedule;

import java.util.Objects;

/** What a DAG's timetable becomes: a schedule, or no schedule and why. */
public sealed interface ScheduleMapping {
  /** The timetable is mirrored by this schedule. */
  record Scheduled(DagSchedule schedule) implements ScheduleMapping {
    public Scheduled {
      Objects.requireNonNull(schedule, "schedule");
    }
  }

  /** The timetable has no Temporal counterpart; {@code reason} says why, for the worker's log. */
  record NotScheduled(String reason) implements ScheduleMapping {
    public NotScheduled {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
