package dev.airflowtemporal.core.dag;

/**
 * Trigger rules decided exactly as Airflow 3.3's scheduler decides them: {@code TriggerRuleDep}
 * (airflow/ti_deps/deps/trigger_rule_dep.py) evaluated with {@code flag_upstream_failed=True},
 * the context {@code DagRun.task_instance_scheduling_decisions} uses. With that flag Airflow first
 * sets the task instance's state when the rule can no longer be met (skipped, upstream_failed,
 * removed) and only otherwise asks whether the rule is met now.
 *
 * <p>Line numbers below are those of trigger_rule_dep.py in apache-airflow 3.3.2. Not covered
 * here, as in Airflow they are separate checks before and after this one: the constraint that
 * indirect setup tasks succeeded (lines 272-359) and a teardown's scope (lines 674-726).
 */
public final class TriggerRules {
  private TriggerRules() {}

  /**
   * For a task whose relevant upstream instances are all of its upstream tasks' instances: it has no
   * upstream task exactly when none is counted.
   *
   * @param mapIndex the task instance's map index, -1 when it is not an expanded mapped instance
   */
  public static TriggerDecision evaluate(TriggerRule rule, UpstreamCounts counts, int mapIndex) {
    return evaluate(rule, counts, mapIndex, counts.upstream() > 0);
  }

  /**
   * @param counts the relevant upstream instances: inside a mapped TaskGroup only some instances of an
   *     upstream are (lines 161-212), possibly none, which is not the same as having no upstream task
   * @param mapIndex the task instance's map index, -1 when it is not an expanded mapped instance
   * @param hasUpstreamTasks whether the task has any upstream task at all
   */
  public static TriggerDecision evaluate(TriggerRule rule, UpstreamCounts counts, int mapIndex, boolean hasUpstreamTasks) {
    // Lines 110-115: no upstream task, or always, passes before any counting.
    if (!hasUpstreamTasks || rule == TriggerRule.ALWAYS) {
      return TriggerDecision.READY;
    }
    TriggerDecision newState = stateToSet(rule, counts, mapIndex);
    if (newState != null) {
      return newState;
    }
    return isMet(rule, counts) ? TriggerDecision.READY : TriggerDecision.WAIT;
  }

  /** Lines 429-487: the state Airflow sets when flag_upstream_failed is on, or null for none. */
  private static TriggerDecision stateToSet(TriggerRule rule, UpstreamCounts c, int mapIndex) {
    boolean anyFailed = c.failed() > 0 || c.upstreamFailed() > 0;
    return switch (rule) {
      case ALL_SUCCESS -> {
        if (anyFailed) {
          yield TriggerDecision.UPSTREAM_FAILED;
        } else if (c.skipped() > 0) {
          yield TriggerDecision.SKIP;
        } else if (c.removed() > 0 && c.success() > 0 && mapIndex > -1 && mapIndex >= c.success()) {
          yield TriggerDecision.REMOVED;
        }
        yield null;
      }
      case ALL_FAILED -> c.success() > 0 || c.skipped() > 0 ? TriggerDecision.SKIP : null;
      case ONE_SUCCESS -> {
        if (c.allDone() && c.done() == c.skipped()) {
          yield TriggerDecision.SKIP;
        } else if (c.allDone() && c.success() <= 0) {
          yield TriggerDecision.UPSTREAM_FAILED;
        }
        yield null;
      }
      case ONE_FAILED -> c.allDone() && !anyFailed ? TriggerDecision.SKIP : null;
      case ONE_DONE -> c.allDone() && c.failed() == 0 && c.success() == 0 ? TriggerDecision.SKIP : null;
      case NONE_FAILED -> anyFailed ? TriggerDecision.UPSTREAM_FAILED : null;
      case NONE_FAILED_MIN_ONE_SUCCESS -> {
        if (anyFailed) {
          yield TriggerDecision.UPSTREAM_FAILED;
        } else if (c.skipped() == c.upstream()) {
          yield TriggerDecision.SKIP;
        } else if (c.allDone() && c.success() == 0) {
          yield TriggerDecision.UPSTREAM_FAILED;
        }
        yield null;
      }
      case NONE_SKIPPED -> c.skipped() > 0 ? TriggerDecision.SKIP : null;
      case ALL_SKIPPED -> c.success() > 0 || anyFailed ? TriggerDecision.SKIP : null;
      case ALL_DONE_MIN_ONE_SUCCESS -> {
        // Here removed counts as done (line 472), unlike in the readiness check (line 639).
        int nonSkippedDone = c.success() + c.failed() + c.upstreamFailed() + c.removed();
        if (c.skipped() > 0) {
          yield TriggerDecision.SKIP;
        } else if (nonSkippedDone >= c.upstream() - c.skipped() && c.success() == 0) {
          yield TriggerDecision.UPSTREAM_FAILED;
        }
        yield null;
      }
      case ALL_DONE_SETUP_SUCCESS -> {
        if (c.allDone() && c.upstreamSetup() > 0 && c.skippedSetup() >= c.upstreamSetup()) {
          yield TriggerDecision.SKIP;
        } else if (c.allDone() && c.upstreamSetup() > 0 && c.successSetup() == 0) {
          yield TriggerDecision.UPSTREAM_FAILED;
        }
        yield null;
      }
      case ALL_DONE, ALWAYS -> null;
    };
  }

  /** Lines 505-672: whether the rule is met now, given no state was set. */
  private static boolean isMet(TriggerRule rule, UpstreamCounts c) {
    return switch (rule) {
      case ONE_SUCCESS -> c.success() > 0;
      case ONE_FAILED -> c.failed() > 0 || c.upstreamFailed() > 0;
      case ONE_DONE -> c.success() + c.failed() > 0;
      case ALL_SUCCESS -> c.upstream() - c.success() - c.removed() <= 0;
      case ALL_FAILED -> c.upstream() - c.failed() - c.upstreamFailed() - c.removed() <= 0;
      case ALL_DONE -> c.allDone();
      case NONE_FAILED -> c.upstream() - c.success() - c.skipped() - c.removed() <= 0;
      case NONE_FAILED_MIN_ONE_SUCCESS -> c.upstream() - c.success() - c.skipped() - c.removed() <= 0 && c.success() > 0;
      case NONE_SKIPPED -> c.allDone() && c.skipped() == 0;
      case ALL_SKIPPED -> c.upstream() - c.skipped() <= 0;
      case ALL_DONE_SETUP_SUCCESS -> c.allDone() && !(c.upstreamSetup() > 0 && c.successSetup() == 0);
      case ALL_DONE_MIN_ONE_SUCCESS -> c.skipped() == 0
          && c.success() + c.failed() + c.upstreamFailed() >= c.upstream() - c.skipped() - c.removed()
          && c.success() > 0;
      case ALWAYS -> true;
    };
  }
}
