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
    assertThat(labels(decider.decide(Map.of()).start())).containsExactly("extract");
    assertThat(decider.decide(states(Map.of("extract", TaskState.RUNNING))))
        .isEqualTo(new DagRunDecisions(List.of(), List.of(), Map.of(), Optional.empty()));
    assertThat(labels(decider.decide(states(Map.of("extract", TaskState.SUCCESS))).start())).containsExactly("transform");
    assertThat(simulate(decider, Set.of())).containsEntry(TaskInstanceRef.of("load"), TaskState.SUCCESS);
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
    DagRunDecisions decisions = decider("chain_defaults.json").decide(states(Map.of("extract", TaskState.FAILED)));
    assertThat(decisions.start()).isEmpty();
    assertThat(decisions.mark()).containsExactly(
        Map.entry(TaskInstanceRef.of("transform"), TaskState.UPSTREAM_FAILED),
        Map.entry(TaskInstanceRef.of("load"), TaskState.UPSTREAM_FAILED));
    assertThat(decisions.runState()).contains(TaskState.FAILED);
  }

  @Test
  void eachTriggerRuleDecidesAsAirflowWithOneUpstreamFailedAndOneSucceeded() {
    DagRunDecisions decisions = decider("trigger_rules.json")
        .decide(states(Map.of("up_a", TaskState.SUCCESS, "up_b", TaskState.FAILED)));
    assertThat(labels(decisions.start())).containsExactlyInAnyOrder("rule_all_done", "rule_always", "rule_one_done",
        "rule_one_failed", "rule_one_success", "rule_none_skipped", "rule_all_done_min_one_success",
        "rule_all_done_setup_success");
    assertThat(decisions.mark()).containsEntry(TaskInstanceRef.of("rule_all_success"), TaskState.UPSTREAM_FAILED)
        .containsEntry(TaskInstanceRef.of("rule_none_failed"), TaskState.UPSTREAM_FAILED)
        .containsEntry(TaskInstanceRef.of("rule_none_failed_min_one_success"), TaskState.UPSTREAM_FAILED)
        .containsEntry(TaskInstanceRef.of("rule_all_failed"), TaskState.SKIPPED)
        .containsEntry(TaskInstanceRef.of("rule_all_skipped"), TaskState.SKIPPED);
    assertThat(decisions.runState()).isEmpty();
  }

  @Test
  void aRunWhoseFailedLeavesAreUpstreamFailedEndsFailedEvenIfOtherLeavesSucceeded() {
    Map<TaskInstanceRef, TaskState> end = simulate(decider("trigger_rules.json"), Set.of("up_b"));
    assertThat(end).containsEntry(TaskInstanceRef.of("rule_all_success"), TaskState.UPSTREAM_FAILED)
        .containsEntry(TaskInstanceRef.of("rule_always"), TaskState.SUCCESS);
    assertThat(decider("trigger_rules.json").decide(end).runState()).contains(TaskState.FAILED);
  }

  @Test
  void tasksThatCanNeverRunDeadlockTheRunIntoFailed() {
    // all_skipped waits forever on removed upstreams (trigger_rule_dep.py): nothing else can move it.
    Map<TaskInstanceRef, TaskState> states = states(Map.of("up_a", TaskState.REMOVED, "up_b", TaskState.REMOVED));
    DagRunDecider decider = decider("trigger_rules.json");
    for (TaskInstanceRef ref : decider.decide(states).start()) {
      states.put(ref, TaskState.SUCCESS);
    }
    decider.decide(states).mark().forEach(states::put);
    DagRunDecisions last = decider.decide(states);
    assertThat(states).doesNotContainKey(TaskInstanceRef.of("rule_all_skipped"));
    assertThat(last.start()).isEmpty();
    assertThat(last.runState()).contains(TaskState.FAILED);
  }

  @Test
  void readyTasksStartByPriorityWeightTotalThenTaskId() {
    DagRunDecider decider = decider("retries_and_resources.json");
    // Both carry `heavy` (absolute weight 10) downstream: equal totals, so task id breaks the tie.
    assertThat(labels(decider.decide(states(Map.of("inherits_default_args", TaskState.SUCCESS))).start()))
        .containsExactly("backoff", "legacy_bool_backoff");
  }

  @Test
  void aMappedTaskIsExpandedOnceItsUpstreamsAreDoneThenItsInstancesRun() {
    DagRunDecider decider = decider("grouped_mapped_branch.json");
    Map<TaskInstanceRef, TaskState> states = states(Map.of("choose", TaskState.SUCCESS, "numbers", TaskState.RUNNING));
    assertThat(decider.decide(states).expand()).isEmpty();
    states.put(TaskInstanceRef.of("numbers"), TaskState.SUCCESS);
    assertThat(decider.decide(states).expand()).containsExactly("double");
    assertThat(labels(decider.decide(states).start())).doesNotContain("double");
    // Expanded into three instances: each runs, and the downstream waits for all of them.
    states.remove(TaskInstanceRef.of("double"));
    for (int i = 0; i < 3; i++) {
      states.put(new TaskInstanceRef("double", i), TaskState.NONE);
    }
    assertThat(labels(decider.decide(states).start())).contains("double[0]", "double[1]", "double[2]");
  }

  @Test
  void aDownstreamOfAMappedTaskWaitsForEveryInstanceAndCountsEachOne() {
    DagRunDecider decider = decider("grouped_mapped_branch.json");
    Map<TaskInstanceRef, TaskState> states = states(Map.of("choose", TaskState.SUCCESS, "numbers", TaskState.SUCCESS,
        "work.prepare", TaskState.SUCCESS, "work.finish", TaskState.SUCCESS));
    states.put(new TaskInstanceRef("double", 0), TaskState.SUCCESS);
    states.put(new TaskInstanceRef("double", 1), TaskState.RUNNING);
    assertThat(decider.decide(states).mark()).isEmpty();
    assertThat(decider.decide(states).start()).isEmpty();
    states.put(new TaskInstanceRef("double", 1), TaskState.FAILED);
    assertThat(decider.decide(states).mark()).containsExactly(Map.entry(TaskInstanceRef.of("join"), TaskState.UPSTREAM_FAILED));
    assertThat(decider.decide(states).runState()).contains(TaskState.FAILED);
  }

  @Test
  void aMappedTaskExpandedToNothingIsSkippedAndItsDownstreamsFollowTheirRules() {
    DagRunDecider decider = decider("grouped_mapped_branch.json");
    Map<TaskInstanceRef, TaskState> states = states(Map.of("choose", TaskState.SUCCESS, "numbers", TaskState.SUCCESS,
        "double", TaskState.SKIPPED));
    DagRunDecisions decisions = decider.decide(states);
    assertThat(decisions.expand()).isEmpty();
    assertThat(decisions.start()).doesNotContain(TaskInstanceRef.of("double"));
  }

  // -- helpers --

  /** Runs the DAG to its end as a workflow would: start what is ready, fail `failing`, apply marks. */
  private static Map<TaskInstanceRef, TaskState> simulate(DagRunDecider decider, Set<String> failing) {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>();
    for (int step = 0; step < 100; step++) {
      DagRunDecisions decisions = decider.decide(states);
      decisions.mark().forEach(states::put);
      if (decisions.runState().isPresent()) {
        return states;
      }
      decisions.start().forEach(ref -> states.put(ref, failing.contains(ref.taskId()) ? TaskState.FAILED : TaskState.SUCCESS));
    }
    throw new AssertionError("the run did not end: " + states);
  }

  private static Map<TaskInstanceRef, TaskState> states(Map<String, TaskState> byTaskId) {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>();
    byTaskId.forEach((taskId, state) -> states.put(TaskInstanceRef.of(taskId), state));
    return states;
  }

  private static Map<TaskInstanceRef, TaskState> allSuccess(String... taskIds) {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>();
    for (String id : taskIds) {
      states.put(TaskInstanceRef.of(id), TaskState.SUCCESS);
    }
    return states;
  }

  private static List<String> labels(List<TaskInstanceRef> refs) {
    return refs.stream().map(TaskInstanceRef::label).toList();
  }

  private static DagRunDecider decider(String fixture) {
    try (InputStream in = DagRunDeciderTest.class.getResourceAsStream("/serialized-dags/" + fixture)) {
      return new DagRunDecider(SerializedDagParser.parse(in.readAllBytes()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
