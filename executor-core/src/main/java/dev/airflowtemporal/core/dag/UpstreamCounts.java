package dev.airflowtemporal.core.dag;

/**
 * The states of one task instance's relevant direct upstream task instances, counted as Airflow
 * 3.3's {@code _UpstreamTIStates.calculate} counts them (airflow/ti_deps/deps/trigger_rule_dep.py).
 *
 * <p>{@code upstream} is the number of upstream task instances (a mapped upstream contributes one
 * per map index); {@code upstream == 0} means the task has no upstream task at all. Only the
 * finished states are counted; an upstream still running, queued or up for retry is in
 * {@code upstream} but in none of the state counts. The {@code *Setup} counts are the part of each
 * that belongs to setup tasks ({@code is_setup}), and matter only to {@code all_done_setup_success}.
 */
public record UpstreamCounts(
    int upstream,
    int success,
    int skipped,
    int failed,
    int upstreamFailed,
    int removed,
    int upstreamSetup,
    int successSetup,
    int skippedSetup) {

  public UpstreamCounts {
    int[] all = {upstream, success, skipped, failed, upstreamFailed, removed, upstreamSetup, successSetup, skippedSetup};
    for (int count : all) {
      if (count < 0) {
        throw new IllegalArgumentException("upstream counts cannot be negative: " + this);
      }
    }
    if (success + skipped + failed + upstreamFailed + removed > upstream) {
      throw new IllegalArgumentException("more finished upstreams than upstreams: " + this);
    }
    if (successSetup + skippedSetup > upstreamSetup || upstreamSetup > upstream
        || successSetup > success || skippedSetup > skipped) {
      throw new IllegalArgumentException("setup counts do not fit the upstream counts: " + this);
    }
  }

  /** Counts for upstreams none of which is a setup task. */
  public static UpstreamCounts of(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed) {
    return new UpstreamCounts(upstream, success, skipped, failed, upstreamFailed, removed, 0, 0, 0);
  }

  /** Airflow's {@code done}: every finished upstream, whatever its state (State.finished). */
  public int done() {
    return success + skipped + failed + upstreamFailed + removed;
  }

  /** Airflow's {@code upstream_done}: no upstream is still to finish. */
  public boolean allDone() {
    return done() >= upstream;
  }
}
