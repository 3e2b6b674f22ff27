package dev.airflowtemporal.workflows.cleared;

import java.time.Duration;
import java.util.Objects;

/**
 * How often the cleared-runs sweep looks for Temporal-owned runs Airflow cleared.
 *
 * @param interval time between two sweeps
 */
public record ClearedRunsSweepSettings(Duration interval) {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
  /** A running run cleared this long ago or less is told so, even if the sweep is slower than that. */
  static final Duration MIN_RECENTLY_CLEARED = Duration.ofMinutes(1);

  public ClearedRunsSweepSettings {
    Objects.requireNonNull(interval, "interval");
    if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("the cleared-runs sweep interval must be at least 1 s, not " + interval);
    }
  }

  /**
   * How far back a clear of a still-running run is looked for: three intervals (so a failed or late
   * sweep misses none), at least {@link #MIN_RECENTLY_CLEARED} (for clocks that disagree a little).
   */
  public Duration recentlyCleared() {
    Duration three = interval.multipliedBy(3);
    return three.compareTo(MIN_RECENTLY_CLEARED) < 0 ? MIN_RECENTLY_CLEARED : three;
  }
}
