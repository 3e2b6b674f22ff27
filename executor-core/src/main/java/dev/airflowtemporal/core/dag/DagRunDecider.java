package dev.airflowtemporal.core.dag;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What Airflow's scheduler would do next for one DagRun, decided from its plan and the current
 * task states alone: which tasks to start (highest priority first), which to mark skipped or
 * upstream_failed, and whether the run is over. Pure and deterministic, so a workflow can call it
 * on every replay.
 *
 * <p>It applies {@link TriggerRules} to every task that has not started and follows the marks it
 * makes downstream in the same call (Airflow reaches the same states over several scheduler
 * loops). The run's final state follows {@code DagRun.update_state} in Airflow 3.3: once nothing
 * is unfinished, failed if any effective leaf failed, else success when every leaf succeeded or
 * was skipped; failed as a deadlock when unfinished tasks remain and none can ever run.
 *
 * <p>Built once per plan (it indexes the tasks and computes priority weights), then asked again
 * after every state change.
 */
public final class DagRunDecider {
  private final DagPlan plan;
  private final Map<String, TaskPlan> byId = new HashMap<>();
  private final Map<String, Integer> weights;

  /** @throws UnsupportedOperationException for a plan with mapped tasks (not decided here yet) */
  public DagRunDecider(DagPlan plan) {
    if (plan.tasks().stream().anyMatch(TaskPlan::mapped)) {
      throw new UnsupportedOperationException("DAG '" + plan.dagId() + "' has mapped tasks, which Temporal-owned "
          + "runs do not support yet");
    }
    this.plan = plan;
    plan.tasks().forEach(task -> byId.put(task.taskId(), task));
    this.weights = priorityWeights();
  }

  /** Airflow's {@code priority_weight_total} of the task: what its TaskInstances store as priority_weight. */
  public int priorityWeight(String taskId) {
    Integer weight = weights.get(taskId);
    if (weight == null) {
      throw new InvalidDagException("DAG '" + plan.dagId() + "' has no task '" + taskId + "'");
    }
    return weight;
  }

  /** @param states the state of every task that has one; absent tasks have not started */
  public DagRunDecisions decide(Map<String, TaskState> states) {
    Map<String, TaskState> current = new HashMap<>(states);
    Map<String, TaskState> mark = new LinkedHashMap<>();
    List<TaskPlan> ready = new ArrayList<>();
    // Plan order is topological, so one pass sees every upstream's mark before its downstreams.
    for (TaskPlan task : plan.tasks()) {
      if (stateOf(current, task.taskId()) != TaskState.NONE) {
        continue;
      }
      switch (TriggerRules.evaluate(task.triggerRule(), countUpstreams(task, current), -1)) {
        case READY -> ready.add(task);
        case SKIP -> markAs(task, TaskState.SKIPPED, current, mark);
        case UPSTREAM_FAILED -> markAs(task, TaskState.UPSTREAM_FAILED, current, mark);
        case REMOVED -> markAs(task, TaskState.REMOVED, current, mark);
        case WAIT -> { }
      }
    }
    List<String> start = ready.stream()
        .sorted(Comparator.comparing((TaskPlan t) -> -weights.get(t.taskId())).thenComparing(TaskPlan::taskId))
        .map(TaskPlan::taskId)
        .toList();
    return new DagRunDecisions(start, mark, start.isEmpty() ? runState(current) : Optional.empty());
  }

  private static void markAs(TaskPlan task, TaskState state, Map<String, TaskState> current, Map<String, TaskState> mark) {
    current.put(task.taskId(), state);
    mark.put(task.taskId(), state);
  }

  private static TaskState stateOf(Map<String, TaskState> states, String taskId) {
    return states.getOrDefault(taskId, TaskState.NONE);
  }

  private UpstreamCounts countUpstreams(TaskPlan task, Map<String, TaskState> states) {
    int success = 0, skipped = 0, failed = 0, upstreamFailed = 0, removed = 0;
    int setup = 0, successSetup = 0, skippedSetup = 0;
    for (String upstreamId : task.upstreamIds()) {
      TaskState state = stateOf(states, upstreamId);
      boolean isSetup = byId.get(upstreamId).setup();
      switch (state) {
        case SUCCESS -> success++;
        case SKIPPED -> skipped++;
        case FAILED -> failed++;
        case UPSTREAM_FAILED -> upstreamFailed++;
        case REMOVED -> removed++;
        default -> { }
      }
      if (isSetup) {
        setup++;
        if (state == TaskState.SUCCESS) successSetup++;
        if (state == TaskState.SKIPPED) skippedSetup++;
      }
    }
    return new UpstreamCounts(task.upstreamIds().size(), success, skipped, failed, upstreamFailed, removed,
        setup, successSetup, skippedSetup);
  }

  /** The run's final state once nothing can start any more; empty while tasks are still running. */
  private Optional<TaskState> runState(Map<String, TaskState> states) {
    List<TaskPlan> unfinished = plan.tasks().stream().filter(t -> !stateOf(states, t.taskId()).finished()).toList();
    if (!unfinished.isEmpty()) {
      boolean inFlight = unfinished.stream().anyMatch(t -> stateOf(states, t.taskId()) != TaskState.NONE);
      // Not-started tasks whose rules wait on finished upstreams only can never run: a deadlock.
      return inFlight ? Optional.empty() : Optional.of(TaskState.FAILED);
    }
    List<TaskState> leafStates = effectiveLeaves().stream()
        .map(t -> stateOf(states, t.taskId()))
        .filter(s -> s != TaskState.REMOVED)
        .toList();
    if (leafStates.stream().anyMatch(TaskState.FAILED_STATES::contains)) {
      return Optional.of(TaskState.FAILED);
    }
    return Optional.of(leafStates.stream().allMatch(TaskState.SUCCESS_STATES::contains)
        ? TaskState.SUCCESS : TaskState.FAILED);
  }

  /**
   * Airflow's {@code DagRun._tis_for_dagrun_state}: tasks with no downstream except teardowns,
   * teardowns themselves left out ({@code on_failure_fail_dagrun} is not in the plan yet); all
   * tasks without downstreams when the DAG is only teardowns.
   */
  private List<TaskPlan> effectiveLeaves() {
    List<TaskPlan> leaves = plan.tasks().stream()
        .filter(t -> !t.teardown() && t.downstreamIds().stream().allMatch(id -> byId.get(id).teardown()))
        .toList();
    return leaves.isEmpty() ? plan.tasks().stream().filter(t -> t.downstreamIds().isEmpty()).toList() : leaves;
  }

  /** Airflow's {@code priority_weight_total} per task, for the built-in weight rules. */
  private Map<String, Integer> priorityWeights() {
    Map<String, Integer> result = new HashMap<>();
    for (TaskPlan task : plan.tasks()) {
      Set<String> related = switch (task.weightRule()) {
        case "downstream" -> reachable(task, true);
        case "upstream" -> reachable(task, false);
        default -> Set.of(); // "absolute", and custom strategies we cannot evaluate: own weight
      };
      result.put(task.taskId(), task.priorityWeight()
          + related.stream().mapToInt(id -> byId.get(id).priorityWeight()).sum());
    }
    return result;
  }

  private Set<String> reachable(TaskPlan from, boolean downstream) {
    Set<String> seen = new HashSet<>();
    List<String> frontier = new ArrayList<>(downstream ? from.downstreamIds() : from.upstreamIds());
    while (!frontier.isEmpty()) {
      String id = frontier.remove(frontier.size() - 1);
      if (seen.add(id)) {
        TaskPlan next = byId.get(id);
        frontier.addAll(downstream ? next.downstreamIds() : next.upstreamIds());
      }
    }
    return seen;
  }
}
