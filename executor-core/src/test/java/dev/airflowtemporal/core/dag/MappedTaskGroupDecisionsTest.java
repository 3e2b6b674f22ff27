package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Decisions inside mapped TaskGroups and over mapped tasks' outputs, on the {@code nested_mapping}
 * DAG serialized by the real Airflow 3.3.2 (serialized-dags/generate.py): {@code pipeline} is mapped
 * over {@code numbers}; in it {@code square} feeds {@code label} (all_success) and {@code note}
 * (one_failed), and the nested mapped group {@code pipeline.inner} ({@code deep}, over 2 literals) is
 * upstream of {@code label}; {@code collect} (all_done) reduces {@code label}; {@code add_ten} maps over
 * mapped {@code double}.
 */
class MappedTaskGroupDecisionsTest {
  private static final DagPlan PLAN = plan();
  private final DagRunDecider decider = new DagRunDecider(PLAN);

  /**
   * Which upstream instances count for one instance, as Airflow's {@code _get_relevant_upstream_map_indexes}
   * gives them, with numbers done and the group's tasks expanded: square, label and note into 3, deep into 3 x 2.
   */
  static Stream<Arguments> relevantUpstreamInstances() {
    return Stream.of(
        // task instance, upstream, the upstream's map indexes that count
        Arguments.of("pipeline.label", 1, "pipeline.square", List.of(1)),
        Arguments.of("pipeline.label", 2, "pipeline.square", List.of(2)),
        // deep is mapped further inside pipeline: Airflow takes label's own count over the group's, 3 / 3 = 1 each.
        Arguments.of("pipeline.label", 1, "pipeline.inner.deep", List.of(1)),
        Arguments.of("pipeline.label", 1, "numbers", List.of(-1)),
        Arguments.of("pipeline.note", 0, "pipeline.square", List.of(0)),
        // outside the group: every instance
        Arguments.of("collect", -1, "pipeline.label", List.of(0, 1, 2)),
        Arguments.of("total", -1, "add_ten", List.of(0, 1, 2)));
  }

  @ParameterizedTest(name = "{0}[{1}] counts {2}{3}")
  @MethodSource
  void relevantUpstreamInstances(String taskId, int mapIndex, String upstreamId, List<Integer> counted) {
    Map<TaskInstanceRef, TaskState> states = expandedRun();
    for (int i = 0; i < 3; i++) {
      states.put(new TaskInstanceRef("add_ten", i), TaskState.NONE);
    }
    int position = PLAN.tasks().indexOf(PLAN.task(taskId));
    int slot = PLAN.task(taskId).upstreamIds().indexOf(upstreamId);
    UpstreamMapIndexes indexes = indexes();
    Map<Integer, Map<Integer, TaskState>> byPosition = byPosition(states);
    int[] relevant = indexes.perInstance(position)
        ? indexes.forTask(position, byPosition::get).relevant(mapIndex, slot) : UpstreamMapIndexes.ALL;
    Map<Integer, TaskState> upstreamInstances = byPosition.get(PLAN.tasks().indexOf(PLAN.task(upstreamId)));
    // Each instance's map index in place of its state, so that what is counted tells which instances they are.
    Map<Integer, Integer> mapIndexes = new TreeMap<>();
    upstreamInstances.keySet().forEach(i -> mapIndexes.put(i, i));
    List<Integer> actual = List.copyOf(UpstreamMapIndexes.counted(mapIndexes, relevant));
    assertThat(actual).isEqualTo(counted);
  }

  @Test
  void theGroupsMembersExpandOnceWhatTheGroupMapsOverIsKnownEachAfterItsUpstreamsInTheGroupExpanded() {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>(Map.of(TaskInstanceRef.of("numbers"), TaskState.RUNNING));
    assertThat(decider.decide(states).expand()).isEmpty();
    states.put(TaskInstanceRef.of("numbers"), TaskState.SUCCESS);
    // label waits for its upstreams' unexpanded instances; note (one_failed) looks at every square instance.
    assertThat(decider.decide(states).expand()).containsExactly("double", "pipeline.inner.deep", "pipeline.square");
    expand(states, "pipeline.square", 3);
    expand(states, "pipeline.inner.deep", 6);
    // Once its upstreams in the group are expanded, none of their unexpanded instances is left to wait for.
    assertThat(decider.decide(states).expand()).containsExactly("double", "pipeline.label");
    assertThat(labels(decider.decide(states).start())).contains("pipeline.square[0]", "pipeline.inner.deep[5]")
        .doesNotContain("pipeline.note");
  }

  @Test
  void eachInstanceInTheGroupFollowsItsOwnUpstreamInstanceNotTheOthers() {
    Map<TaskInstanceRef, TaskState> states = expandedRun();
    states.put(new TaskInstanceRef("pipeline.square", 0), TaskState.SUCCESS);
    states.put(new TaskInstanceRef("pipeline.square", 1), TaskState.FAILED);
    states.put(new TaskInstanceRef("pipeline.square", 2), TaskState.RUNNING);
    for (int i = 0; i < 6; i++) {
      states.put(new TaskInstanceRef("pipeline.inner.deep", i), TaskState.SUCCESS);
    }
    DagRunDecisions decisions = decider.decide(states);
    assertThat(labels(decisions.start())).contains("pipeline.label[0]", "pipeline.note[1]")
        .doesNotContain("pipeline.label[2]", "pipeline.note[2]");
    assertThat(decisions.mark()).containsEntry(new TaskInstanceRef("pipeline.label", 1), TaskState.UPSTREAM_FAILED)
        .containsEntry(new TaskInstanceRef("pipeline.note", 0), TaskState.SKIPPED)
        .doesNotContainKey(new TaskInstanceRef("pipeline.label", 2));
    assertThat(decisions.mark()).as("collect waits for label[2]").doesNotContainKey(TaskInstanceRef.of("collect"));
  }

  @Test
  void aMappedTaskOverAMappedTasksOutputExpandsOnceEveryInstanceOfItIsDone() {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>(Map.of(TaskInstanceRef.of("numbers"), TaskState.SUCCESS));
    expand(states, "double", 3);
    states.put(new TaskInstanceRef("double", 0), TaskState.SUCCESS);
    states.put(new TaskInstanceRef("double", 1), TaskState.SUCCESS);
    assertThat(decider.decide(states).expand()).doesNotContain("add_ten");
    states.put(new TaskInstanceRef("double", 2), TaskState.SUCCESS);
    assertThat(decider.decide(states).expand()).contains("add_ten");
    states.put(new TaskInstanceRef("double", 2), TaskState.FAILED);
    assertThat(decider.decide(states).mark()).containsEntry(TaskInstanceRef.of("add_ten"), TaskState.UPSTREAM_FAILED);
  }

  @Test
  void withNothingRelevantLeftEveryRuleDecidesOnZeroCountsNotAsATaskWithoutUpstreams() {
    // label[-1] once square and deep are expanded counts only numbers: all_success is met. The same zero
    // counts skip a one_success task, where a task without upstreams would be ready.
    UpstreamCounts none = UpstreamCounts.of(0, 0, 0, 0, 0, 0);
    assertThat(TriggerRules.evaluate(TriggerRule.ONE_SUCCESS, none, -1, true)).isEqualTo(TriggerDecision.SKIP);
    assertThat(TriggerRules.evaluate(TriggerRule.ALL_DONE_MIN_ONE_SUCCESS, none, -1, true))
        .isEqualTo(TriggerDecision.UPSTREAM_FAILED);
    assertThat(TriggerRules.evaluate(TriggerRule.ONE_SUCCESS, none, -1, false)).isEqualTo(TriggerDecision.READY);
    assertThat(TriggerRules.evaluate(TriggerRule.ALL_SUCCESS, none, -1, true)).isEqualTo(TriggerDecision.READY);
  }

  @Test
  void theRunEndsByItsLeavesOnceEveryGroupInstanceIsDone() {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>();
    for (int step = 0; step < 50; step++) {
      DagRunDecisions decisions = decider.decide(states);
      decisions.mark().forEach(states::put);
      if (decisions.runState().isPresent()) {
        // square[2] failed: label[2] upstream_failed, note[2] ran, the others skipped; collect (all_done) ran.
        assertThat(states).containsEntry(new TaskInstanceRef("pipeline.label", 2), TaskState.UPSTREAM_FAILED)
            .containsEntry(new TaskInstanceRef("pipeline.label", 1), TaskState.SUCCESS)
            .containsEntry(new TaskInstanceRef("pipeline.note", 2), TaskState.SUCCESS)
            .containsEntry(new TaskInstanceRef("pipeline.note", 0), TaskState.SKIPPED)
            .containsEntry(TaskInstanceRef.of("collect"), TaskState.SUCCESS)
            .containsEntry(TaskInstanceRef.of("total"), TaskState.SUCCESS);
        assertThat(decisions.runState()).as("square is no leaf; note's instances succeeded or skipped")
            .contains(TaskState.SUCCESS);
        return;
      }
      for (String taskId : decisions.expand()) {
        expand(states, taskId, PLAN.task(taskId).mappedTaskGroups().size() == 2 ? 6 : 3);
      }
      decisions.start().forEach(ref -> states.put(ref,
          ref.equals(new TaskInstanceRef("pipeline.square", 2)) ? TaskState.FAILED : TaskState.SUCCESS));
    }
    throw new AssertionError("the run did not end: " + states);
  }

  // -- helpers --

  /** numbers done, every task of the group expanded (deep into 3 x 2), nothing else started. */
  private static Map<TaskInstanceRef, TaskState> expandedRun() {
    Map<TaskInstanceRef, TaskState> states = new HashMap<>(Map.of(TaskInstanceRef.of("numbers"), TaskState.SUCCESS));
    expand(states, "double", 3);
    expand(states, "pipeline.square", 3);
    expand(states, "pipeline.inner.deep", 6);
    expand(states, "pipeline.label", 3);
    expand(states, "pipeline.note", 3);
    return states;
  }

  private static void expand(Map<TaskInstanceRef, TaskState> states, String taskId, int count) {
    states.remove(TaskInstanceRef.of(taskId));
    for (int i = 0; i < count; i++) {
      states.put(new TaskInstanceRef(taskId, i), TaskState.NONE);
    }
  }

  private static Map<Integer, Map<Integer, TaskState>> byPosition(Map<TaskInstanceRef, TaskState> states) {
    Map<Integer, Map<Integer, TaskState>> result = new HashMap<>();
    for (int p = 0; p < PLAN.tasks().size(); p++) {
      result.put(p, new TreeMap<>(Map.of(-1, TaskState.NONE)));
    }
    states.forEach((ref, state) -> {
      Map<Integer, TaskState> instances = result.get(PLAN.tasks().indexOf(PLAN.task(ref.taskId())));
      if (ref.mapIndex() >= 0) {
        instances.remove(-1);
      }
      instances.put(ref.mapIndex(), state);
    });
    return result;
  }

  private static UpstreamMapIndexes indexes() {
    Map<String, Integer> positions = new HashMap<>();
    List<TaskPlan> tasks = PLAN.tasks();
    for (int i = 0; i < tasks.size(); i++) {
      positions.put(tasks.get(i).taskId(), i);
    }
    int[][] upstreams = new int[tasks.size()][];
    for (int i = 0; i < tasks.size(); i++) {
      upstreams[i] = tasks.get(i).upstreamIds().stream().mapToInt(positions::get).toArray();
    }
    return new UpstreamMapIndexes(tasks, positions, upstreams);
  }

  private static List<String> labels(List<TaskInstanceRef> refs) {
    return refs.stream().map(TaskInstanceRef::label).toList();
  }

  private static DagPlan plan() {
    try (InputStream in = MappedTaskGroupDecisionsTest.class.getResourceAsStream("/serialized-dags/nested_mapping.json")) {
      return SerializedDagParser.parse(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
