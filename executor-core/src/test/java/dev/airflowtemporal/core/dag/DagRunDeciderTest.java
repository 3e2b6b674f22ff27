package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Scheduling decisions on DAGs serialized by the real Airflow 3.3.2 (see serialized-dags/generate.py). */
class DagRunDeciderTest {

  @Test
  void aChainStartsWithItsRootAndSucceedsWhenEveryTaskDid() {
    DagRunDecider decider = decider("chain_defaults.json");
    assertThat(decider.decide(Map.of()).start()).containsExactly("extract");
    assertThat(decider.decide(Map.of("extract", TaskState.RUNNING)))
        .isEqualTo(new DagRunDecisions(List.of(), Map.of(), Optional.empty()));
    assertThat(decider.decide(Map.of("extract", TaskState.SUCCESS)).start()).containsExactly("transform");
    assertThat(simulate(decider, Set.of())).containsEntry("load", TaskState.SUCCESS);
    assertThat(decider.decide(allSuccess("extract", "transform", "load")).runState()).contains(TaskState.SUCCESS);
  }

  @Test
  void priorityWeightsSumDownstreamWeightsAsAirflowsDefaultWeightRule() {
    DagRunDecider decider = decider("chain_defaults.json");
    assertThat(List.of(decider.priorityWeight("extract"), decider.priorityWeight("transform"), decider.priorityWeight("load")))
        .containsExactly(3, 2, 1);
    assertThatThrownBy(() -> decider.priorityWeight("nope")).hasMessageContaining("has no task 'nope'");
  }

  @Test
  void aFailureMarksEveryDownstreamUpstreamFailedAndFailsTheRunInOneDecision() {
    DagRunDecisions decisions = decider("chain_defaults.json").decide(Map.of("extract", TaskState.FAILED));
    assertThat(decisions.start()).isEmpty();
    assertThat(decisions.mark()).containsExactly(
        Map.entry("transform", TaskState.UPSTREAM_FAILED), Map.entry("load", TaskState.UPSTREAM_FAILED));
    assertThat(decisions.runState()).contains(TaskState.FAILED);
  }

  @Test
  void eachTriggerRuleDecidesAsAirflowWithOneUpstreamFailedAndOneSucceeded() {
    DagRunDecisions decisions = decider("trigger_rules.json")
        .decide(Map.of("up_a", TaskState.SUCCESS, "up_b", TaskState.FAILED));
    assertThat(decisions.start()).containsExactlyInAnyOrder("rule_all_done", "rule_always", "rule_one_done",
        "rule_one_failed", "rule_one_success", "rule_none_skipped", "rule_all_done_min_one_success",
        "rule_all_done_setup_success");
    assertThat(decisions.mark()).containsEntry("rule_all_success", TaskState.UPSTREAM_FAILED)
        .containsEntry("rule_none_failed", TaskState.UPSTREAM_FAILED)
        .containsEntry("rule_none_failed_min_one_success", TaskState.UPSTREAM_FAILED)
        .containsEntry("rule_all_failed", TaskState.SKIPPED)
        .containsEntry("rule_all_skipped", TaskState.SKIPPED);
    assertThat(decisions.runState()).isEmpty();
  }

  @Test
  void aRunWhoseFailedLeavesAreUpstreamFailedEndsFailedEvenIfOtherLeavesSucceeded() {
    Map<String, TaskState> end = simulate(decider("trigger_rules.json"), Set.of("up_b"));
    assertThat(end).containsEntry("rule_all_success", TaskState.UPSTREAM_FAILED)
        .containsEntry("rule_always", TaskState.SUCCESS);
    assertThat(decider("trigger_rules.json").decide(end).runState()).contains(TaskState.FAILED);
  }

  @Test
  void tasksThatCanNeverRunDeadlockTheRunIntoFailed() {
    // all_skipped waits forever on removed upstreams (trigger_rule_dep.py): nothing else can move it.
    Map<String, TaskState> states = new HashMap<>(Map.of("up_a", TaskState.REMOVED, "up_b", TaskState.REMOVED));
    DagRunDecider decider = decider("trigger_rules.json");
    for (String id : decider.decide(states).start()) {
      states.put(id, TaskState.SUCCESS);
    }
    decider.decide(states).mark().forEach(states::put);
    DagRunDecisions last = decider.decide(states);
    assertThat(states).doesNotContainKey("rule_all_skipped");
    assertThat(last.start()).isEmpty();
    assertThat(last.runState()).contains(TaskState.FAILED);
  }

  @Test
  void readyTasksStartByPriorityWeightTotalThenTaskId() {
    DagRunDecider decider = decider("retries_and_resources.json");
    // Both carry `heavy` (absolute weight 10) downstream: equal totals, so task id breaks the tie.
    assertThat(decider.decide(Map.of("inherits_default_args", TaskState.SUCCESS)).start())
        .containsExactly("backoff", "legacy_bool_backoff");
  }

  @Test
  void mappedTasksAreRefusedUntilTheyAreSupported() {
    assertThatThrownBy(() -> decider("grouped_mapped_branch.json"))
        .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("mapped tasks");
  }

  // -- helpers --

  /** Runs the DAG to its end as a workflow would: start what is ready, fail `failing`, apply marks. */
  private static Map<String, TaskState> simulate(DagRunDecider decider, Set<String> failing) {
    Map<String, TaskState> states = new HashMap<>();
    for (int step = 0; step < 100; step++) {
      DagRunDecisions decisions = decider.decide(states);
      decisions.mark().forEach(states::put);
      if (decisions.runState().isPresent()) {
        return states;
      }
      decisions.start().forEach(id -> states.put(id, failing.contains(id) ? TaskState.FAILED : TaskState.SUCCESS));
    }
    throw new AssertionError("the run did not end: " + states);
  }

  private static Map<String, TaskState> allSuccess(String... taskIds) {
    Map<String, TaskState> states = new HashMap<>();
    for (String id : taskIds) {
      states.put(id, TaskState.SUCCESS);
    }
    return states;
  }

  private static DagRunDecider decider(String fixture) {
    try (InputStream in = DagRunDeciderTest.class.getResourceAsStream("/serialized-dags/" + fixture)) {
      return new DagRunDecider(SerializedDagParser.parse(in.readAllBytes()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
