package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One table per trigger rule: upstream counts -> what Airflow 3.3's scheduler does. Every row was
 * checked against the real {@code TriggerRuleDep._get_dep_statuses} of apache-airflow 3.3.2 run
 * with {@code flag_upstream_failed=True} (as {@code DagRun.task_instance_scheduling_decisions}
 * runs it), over all counts of up to three upstreams. Comments cite the lines of
 * airflow/ti_deps/deps/trigger_rule_dep.py each row goes through; "state set" rows end in the
 * first block (lines 429-487), the others in the readiness check (lines 505-672).
 */
class TriggerRulesTest {
  private static TriggerDecision decide(
      TriggerRule rule, int upstream, int success, int skipped, int failed, int upstreamFailed, int removed) {
    return TriggerRules.evaluate(rule, UpstreamCounts.of(upstream, success, skipped, failed, upstreamFailed, removed), -1);
  }

  @ParameterizedTest(name = "all_success {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 430-437: no state to set; lines 535-545: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 430-437: no state to set; lines 535-545: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 430-437: no state to set; lines 535-545: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 0 | SKIP
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 430-437: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 430-437: state set under flag_upstream_failed
      2 | 1 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | UPSTREAM_FAILED
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 430-437: no state to set; lines 535-545: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 430-437: no state to set; lines 535-545: rule met
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 430-437: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | UPSTREAM_FAILED
      # lines 430-437: no state to set; lines 535-545: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 430-437: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void allSuccess(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_SUCCESS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "all_failed {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 438-440: no state to set; lines 546-556: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 438-440: state set under flag_upstream_failed
      2 | 1 | 0 | 0 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 2 | 0 | 0 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 438-440: no state to set; lines 546-556: rule not met yet
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 438-440: state set under flag_upstream_failed
      2 | 1 | 0 | 1 | 0 | 0 | SKIP
      # lines 438-440: no state to set; lines 546-556: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 438-440: no state to set; lines 546-556: rule met
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 438-440: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      2 | 1 | 0 | 0 | 0 | 1 | SKIP
      # lines 438-440: no state to set; lines 546-556: rule met
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 438-440: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 438-440: no state to set; lines 546-556: rule met
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 438-440: state set under flag_upstream_failed
      3 | 1 | 0 | 0 | 0 | 0 | SKIP
      # lines 438-440: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void allFailed(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_FAILED, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "all_done {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 557-566: rule not met yet (no state is ever set for it)
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 557-566: rule not met yet (no state is ever set for it)
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 557-566: rule met (no state is ever set for it)
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 557-566: rule not met yet (no state is ever set for it)
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 2 | 0 | 0 | 0 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 557-566: rule not met yet (no state is ever set for it)
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 557-566: rule met (no state is ever set for it)
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 557-566: rule not met yet (no state is ever set for it)
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 1 | 1 | 0 | 0 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 1 | 0 | 1 | 0 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 1 | 0 | 0 | 1 | READY
      # lines 557-566: rule met (no state is ever set for it)
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 557-566: rule not met yet (no state is ever set for it)
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 557-566: rule met (no state is ever set for it)
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void allDone(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_DONE, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "all_done_min_one_success {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 470-480: no state to set; lines 637-668: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 470-480: no state to set; lines 637-668: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 470-480: no state to set; lines 637-668: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 0 | SKIP
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 470-480: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 470-480: no state to set; lines 637-668: rule not met yet
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 470-480: no state to set; lines 637-668: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 470-480: no state to set; lines 637-668: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | UPSTREAM_FAILED
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | SKIP
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | SKIP
      # lines 470-480: no state to set; lines 637-668: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 0 | 2 | UPSTREAM_FAILED
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 470-480: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | UPSTREAM_FAILED
      # lines 470-480: no state to set; lines 637-668: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 470-480: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void allDoneMinOneSuccess(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_DONE_MIN_ONE_SUCCESS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "all_done_setup_success {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 2 | 0 | 0 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 1 | 1 | 0 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 1 | 0 | 1 | 0 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 1 | 0 | 0 | 1 | READY
      # lines 481-487: no state to set; lines 618-636: rule met
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 481-487: no state to set; lines 618-636: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 481-487: no state to set; lines 618-636: rule met
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void allDoneSetupSuccess(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_DONE_SETUP_SUCCESS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "one_success {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 441-447: no state to set; lines 507-515: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 441-447: no state to set; lines 507-515: rule met
      2 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 441-447: no state to set; lines 507-515: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 441-447: no state to set; lines 507-515: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 441-447: no state to set; lines 507-515: rule met
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 441-447: no state to set; lines 507-515: rule not met yet
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 441-447: no state to set; lines 507-515: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 441-447: no state to set; lines 507-515: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | UPSTREAM_FAILED
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 441-447: no state to set; lines 507-515: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 0 | 2 | UPSTREAM_FAILED
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | UPSTREAM_FAILED
      # lines 441-447: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | UPSTREAM_FAILED
      # lines 441-447: no state to set; lines 507-515: rule met
      3 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 441-447: no state to set; lines 507-515: rule met
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void oneSuccess(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ONE_SUCCESS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "one_failed {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 448-450: no state to set; lines 516-524: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 448-450: no state to set; lines 516-524: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 448-450: state set under flag_upstream_failed
      2 | 2 | 0 | 0 | 0 | 0 | SKIP
      # lines 448-450: no state to set; lines 516-524: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 448-450: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 448-450: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 0 | 1 | 0 | 0 | READY
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 0 | 0 | 1 | 0 | READY
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 1 | 1 | 0 | 0 | READY
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 1 | 0 | 1 | 0 | READY
      # lines 448-450: state set under flag_upstream_failed
      2 | 1 | 0 | 0 | 0 | 1 | SKIP
      # lines 448-450: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 0 | 2 | SKIP
      # lines 448-450: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 448-450: no state to set; lines 516-524: rule met
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 448-450: no state to set; lines 516-524: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 448-450: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void oneFailed(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ONE_FAILED, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "one_done {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 451-453: no state to set; lines 525-534: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 451-453: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 0 | 0 | 1 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 0 | 1 | 1 | 0 | 0 | READY
      # lines 451-453: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | SKIP
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 451-453: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 0 | 2 | SKIP
      # lines 451-453: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 451-453: no state to set; lines 525-534: rule met
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      3 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 451-453: no state to set; lines 525-534: rule met
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void oneDone(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ONE_DONE, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "none_failed {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 454-456: no state to set; lines 567-577: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 454-456: no state to set; lines 567-577: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 454-456: no state to set; lines 567-577: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 0 | 2 | 0 | 0 | 0 | READY
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 454-456: state set under flag_upstream_failed
      2 | 1 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | UPSTREAM_FAILED
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 454-456: no state to set; lines 567-577: rule met
      2 | 0 | 1 | 0 | 0 | 1 | READY
      # lines 454-456: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | UPSTREAM_FAILED
      # lines 454-456: no state to set; lines 567-577: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 454-456: no state to set; lines 567-577: rule met
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void noneFailed(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.NONE_FAILED, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "none_failed_min_one_success {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 457-463: no state to set; lines 578-596: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 457-463: no state to set; lines 578-596: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 457-463: no state to set; lines 578-596: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 457-463: no state to set; lines 578-596: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 457-463: no state to set; lines 578-596: rule met
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 1 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | UPSTREAM_FAILED
      # lines 457-463: no state to set; lines 578-596: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 0 | 2 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | UPSTREAM_FAILED
      # lines 457-463: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | UPSTREAM_FAILED
      # lines 457-463: no state to set; lines 578-596: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 457-463: no state to set; lines 578-596: rule met
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void noneFailedMinOneSuccess(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "none_skipped {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 464-466: no state to set; lines 597-606: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 464-466: no state to set; lines 597-606: rule not met yet
      2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 464-466: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 0 | SKIP
      # lines 464-466: state set under flag_upstream_failed
      2 | 0 | 2 | 0 | 0 | 0 | SKIP
      # lines 464-466: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 464-466: no state to set; lines 597-606: rule not met yet
      2 | 0 | 0 | 1 | 0 | 0 | WAIT
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 464-466: no state to set; lines 597-606: rule not met yet
      2 | 0 | 0 | 0 | 1 | 0 | WAIT
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 464-466: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | SKIP
      # lines 464-466: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | SKIP
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 464-466: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 0 | 1 | SKIP
      # lines 464-466: no state to set; lines 597-606: rule met
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 464-466: no state to set; lines 597-606: rule not met yet
      3 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 464-466: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void noneSkipped(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.NONE_SKIPPED, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "all_skipped {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 467-469: no state to set; lines 607-617: rule not met yet
      2 | 0 | 0 | 0 | 0 | 0 | WAIT
      # lines 467-469: state set under flag_upstream_failed
      2 | 1 | 0 | 0 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 2 | 0 | 0 | 0 | 0 | SKIP
      # lines 467-469: no state to set; lines 607-617: rule not met yet
      2 | 0 | 1 | 0 | 0 | 0 | WAIT
      # lines 467-469: no state to set; lines 607-617: rule met
      2 | 0 | 2 | 0 | 0 | 0 | READY
      # lines 467-469: state set under flag_upstream_failed
      2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 1 | 0 | 1 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 0 | 0 | 1 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 1 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 1 | 1 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 1 | 0 | 1 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      2 | 1 | 0 | 0 | 0 | 1 | SKIP
      # lines 467-469: no state to set; lines 607-617: rule not met yet
      2 | 0 | 0 | 0 | 0 | 2 | WAIT
      # lines 467-469: no state to set; lines 607-617: rule not met yet
      2 | 0 | 1 | 0 | 0 | 1 | WAIT
      # lines 467-469: state set under flag_upstream_failed
      2 | 0 | 0 | 1 | 0 | 1 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      3 | 1 | 0 | 0 | 0 | 0 | SKIP
      # lines 467-469: state set under flag_upstream_failed
      3 | 2 | 1 | 0 | 0 | 0 | SKIP
      """)
  void allSkipped(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALL_SKIPPED, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "always {0} upstreams, {1} success {2} skipped {3} failed {4} upstream_failed {5} removed -> {6}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 2 | 0 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 1 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 2 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 1 | 1 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 1 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 1 | 0 | 1 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 0 | 1 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 1 | 1 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 1 | 1 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 1 | 0 | 1 | 0 | READY
      # lines 113-115: always passes without counting
      2 | 1 | 0 | 0 | 0 | 1 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 0 | 0 | 2 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 1 | 0 | 0 | 1 | READY
      # lines 113-115: always passes without counting
      2 | 0 | 0 | 1 | 0 | 1 | READY
      # lines 113-115: always passes without counting
      3 | 1 | 0 | 0 | 0 | 0 | READY
      # lines 113-115: always passes without counting
      3 | 2 | 1 | 0 | 0 | 0 | READY
      """)
  void always(int upstream, int success, int skipped, int failed, int upstreamFailed, int removed,
      TriggerDecision expected) {
    assertThat(decide(TriggerRule.ALWAYS, upstream, success, skipped, failed, upstreamFailed, removed)).isEqualTo(expected);
  }
  @ParameterizedTest(name = "map index {0}: {2} of {1} upstream instances successful, {3} removed -> {4}")
  @CsvSource(delimiter = '|', textBlock = """
      # map_index | upstream | success | removed | decision
      # lines 435-437: only an expanded instance (map index > -1) is removed, and only when its
      # index is at or beyond the number of successful upstream instances
      -1 | 3 | 2 | 1 | READY
      0  | 3 | 2 | 1 | READY
      1  | 3 | 2 | 1 | READY
      2  | 3 | 2 | 1 | REMOVED
      0  | 2 | 1 | 1 | READY
      1  | 2 | 1 | 1 | REMOVED
      """)
  void allSuccessRemovesExpandedInstancesBeyondTheSuccessfulUpstreams(
      int mapIndex, int upstream, int success, int removed, TriggerDecision expected) {
    UpstreamCounts counts = UpstreamCounts.of(upstream, success, 0, 0, 0, removed);
    assertThat(TriggerRules.evaluate(TriggerRule.ALL_SUCCESS, counts, mapIndex)).isEqualTo(expected);
  }

  @ParameterizedTest(name = "setups {0} (success {1}, skipped {2}) among {3} upstreams, {4} success {5} skipped {6} failed -> {9}")
  @CsvSource(delimiter = '|', textBlock = """
      # upstream_setup | success_setup | skipped_setup | upstream | success | skipped | failed | upstream_failed | removed | decision
      # lines 481-487 then 618-636: one successful setup is enough, whatever the others did
      1 | 1 | 0 | 2 | 1 | 0 | 1 | 0 | 0 | READY
      2 | 1 | 0 | 3 | 2 | 0 | 1 | 0 | 0 | READY
      2 | 1 | 1 | 3 | 1 | 1 | 1 | 0 | 0 | READY
      # lines 618-626: all upstreams must be done first
      1 | 1 | 0 | 2 | 1 | 0 | 0 | 0 | 0 | WAIT
      1 | 0 | 0 | 2 | 1 | 0 | 0 | 0 | 0 | WAIT
      # lines 482-484: every setup skipped -> skipped
      1 | 0 | 1 | 2 | 1 | 1 | 0 | 0 | 0 | SKIP
      # lines 485-487: no setup succeeded (failed, upstream_failed, removed, or skipped next to a failed one)
      1 | 0 | 0 | 2 | 1 | 0 | 1 | 0 | 0 | UPSTREAM_FAILED
      1 | 0 | 0 | 2 | 1 | 0 | 0 | 1 | 0 | UPSTREAM_FAILED
      1 | 0 | 0 | 2 | 1 | 0 | 0 | 0 | 1 | UPSTREAM_FAILED
      2 | 0 | 1 | 3 | 1 | 1 | 1 | 0 | 0 | UPSTREAM_FAILED
      """)
  void allDoneSetupSuccessLooksAtTheSetupUpstreams(int upstreamSetup, int successSetup, int skippedSetup, int upstream,
      int success, int skipped, int failed, int upstreamFailed, int removed, TriggerDecision expected) {
    UpstreamCounts counts = new UpstreamCounts(
        upstream, success, skipped, failed, upstreamFailed, removed, upstreamSetup, successSetup, skippedSetup);
    assertThat(TriggerRules.evaluate(TriggerRule.ALL_DONE_SETUP_SUCCESS, counts, -1)).isEqualTo(expected);
  }

  @Test
  void aTaskWithoutUpstreamsIsReadyWhateverItsRule() {
    // Lines 110-112: no upstream task ids passes before the rule is looked at.
    for (TriggerRule rule : TriggerRule.values()) {
      assertThat(TriggerRules.evaluate(rule, UpstreamCounts.of(0, 0, 0, 0, 0, 0), -1)).as(rule.name())
          .isEqualTo(TriggerDecision.READY);
    }
  }

  @Test
  void countsThatCannotHappenAreRefused() {
    assertThatThrownBy(() -> UpstreamCounts.of(1, 1, 1, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more finished upstreams than upstreams");
    assertThatThrownBy(() -> UpstreamCounts.of(1, -1, 0, 0, 0, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
    assertThatThrownBy(() -> new UpstreamCounts(2, 1, 0, 0, 0, 0, 1, 0, 1)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("setup counts");
  }

  @Test
  void everyAirflowTriggerRuleValueIsKnownAndAnUnknownOneIsNamed() {
    assertThat(TriggerRule.fromAirflowValue("none_failed_min_one_success")).isEqualTo(TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS);
    assertThatThrownBy(() -> TriggerRule.fromAirflowValue("dummy")).isInstanceOf(InvalidDagException.class)
        .hasMessageContaining("unknown trigger_rule 'dummy'").hasMessageContaining("all_done_setup_success");
  }
}
