package dev.airflowtemporal.core.schedule;

import java.util.Objects;

/**
 * A managed schedule as Temporal holds it.
 *
 * @param schedule the {@link DagSchedule} in its action; null when the action could not be read
 *     (written by another version, or changed by hand), which counts as a changed spec
 */
public record ExistingSchedule(String dagId, DagSchedule schedule, boolean paused) {
  public ExistingSchedule {
    Objects.requireNonNull(dagId, "dagId");
  }
}
