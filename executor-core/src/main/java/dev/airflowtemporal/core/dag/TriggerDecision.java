package dev.airflowtemporal.core.dag;

/** What the scheduler does with a not-yet-started task instance after evaluating its trigger rule. */
public enum TriggerDecision {
  /** The rule is met: the task instance may run. */
  READY,
  /** The rule is not met yet: evaluate again when another upstream finishes. */
  WAIT,
  /** Set the task instance to {@code skipped}. */
  SKIP,
  /** Set the task instance to {@code upstream_failed}. */
  UPSTREAM_FAILED,
  /**
   * Set the task instance to {@code removed}: only an expanded mapped instance under
   * {@code all_success} whose map index is beyond the upstream's successful instances.
   */
  REMOVED
}
