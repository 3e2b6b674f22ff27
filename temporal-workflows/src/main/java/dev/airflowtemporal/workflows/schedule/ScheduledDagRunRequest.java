package dev.airflowtemporal.workflows.schedule;

import dev.airflowtemporal.core.schedule.DagSchedule;
import java.util.Objects;

/**
 * The argument a DAG's Temporal Schedule passes to every firing: which DAG, and the schedule the
 * firing came from (how its time becomes a logical date). Comparing it with the DAG's current
 * schedule tells the sync whether the Temporal Schedule is up to date.
 */
public record ScheduledDagRunRequest(String dagId, DagSchedule schedule) {
  public ScheduledDagRunRequest {
    Objects.requireNonNull(dagId, "dagId");
    Objects.requireNonNull(schedule, "schedule");
  }
}
