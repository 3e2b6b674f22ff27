package dev.airflowtemporal.workflows.schedule;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the schedule sync mirrors and how often.
 *
 * @param tag DAGs with this tag opt in; null or empty to opt in by dag_id only
 * @param dagIds DAGs that opt in by name, whatever their tags
 * @param interval time between two syncs
 */
public record ScheduleSyncSettings(String tag, List<String> dagIds, Duration interval) {
  public static final String DEFAULT_TAG = "temporal";
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);

  public ScheduleSyncSettings {
    dagIds = dagIds == null ? List.of() : List.copyOf(dagIds);
    Objects.requireNonNull(interval, "interval");
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("the schedule sync interval must be at least 1 s, not " + interval);
    }
  }
}
