package dev.airflowtemporal.core.dag;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What Airflow's scheduler would do next for one DagRun, decided from its plan and the current
 * state of each of its task instances alone: which to start (highest priority first), which mapped
 * tasks to expand, which instances to mark skipped or upstream_failed, and whether the run is over.
 * Pure and deterministic, so a workflow can call it on every replay.
 *
 * <p>It applies {@link TriggerRules} to every instance that has not started, counting upstream
 * task instances as Airflow's {@code TriggerRuleDep} does (each instance of a mapped upstream counts;
 * inside a mapped TaskGroup, only the instances of the same group instance: {@link UpstreamMapIndexes}),
 * and follows the marks it makes downstream in the same call (Airflow reaches the same states over
 * several scheduler loops). A mapped task, and every task in a mapped TaskGroup, is one instance (map
 * index -1) until its trigger rule is met; then it is to be expanded, and its instances are decided like
 * any other. The run's final
 * state follows {@code DagRun.update_state} in Airflow 3.3: once nothing is unfinished, failed if
 * any instance of an effective leaf failed, else success when every one succeeded or was skipped;
 * failed as a deadlock when unfinished instances remain and none can ever run.
 *
 * <p>Built once per plan (it indexes the tasks and computes priority weights), then asked again
 * after every state change.
 */
public final class DagRunDecider {
  private final DagPlan plan;
  private final List<TaskPlan> tasks;
  private final Map<String, TaskPlan> byId = new HashMap<>();
  /** Position of each task in plan order: decisions work on arrays indexed by it (no per-call maps). */
  private final Map<String, Integer> positions = new HashMap<>();
  private final int[][] upstreamPositions;
  private final UpstreamMapIndexes mapIndexes;
  private final Map<String, Integer> weights;

  public DagRunDecider(DagPlan plan) {
    this.plan = plan;
    this.tasks = plan.tasks();
    for (int i = 0; i < tasks.size(); i++) {
      byId.put(tasks.get(i).taskId(), tasks.get(i));
      positions.put(tasks.get(i).taskId(), i);
    }
    this.upstreamPositions = new int[tasks.size()][];
    for (int i = 0; i < tasks.size(); i++) {
      upstreamPositions[i] = tasks.get(i).upstreamIds().stream().mapToInt(positions::get).toArray();
    }
    this.mapIndexes = new UpstreamMapIndexes(tasks, positions, upstreamPositions);
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

  /**
   * @param states the state of every task instance that exists; a task with none is one unmapped
   *     instance that has not started
   */
  public DagRunDecisions decide(Map<TaskInstanceRef, TaskState> states) {
    RunStates current = new RunStates(states);
    Map<TaskInstanceRef, TaskState> mark = new LinkedHashMap<>();
    List<TaskInstanceRef> ready = new ArrayList<>();
    List<String> expand = new ArrayList<>();
    // Plan order is topological, so one pass sees every upstream's mark before its downstreams.
    for (int i = 0; i < tasks.size(); i++) {
      TaskPlan task = tasks.get(i);
      UpstreamCounts counts = null;
      UpstreamMapIndexes.ForTask relevance = mapIndexes.perInstance(i) ? mapIndexes.forTask(i, current::instances) : null;
      for (Map.Entry<Integer, TaskState> instance : current.instances(i).entrySet()) {
        if (instance.getValue() != TaskState.NONE) {
          continue;
        }
        if (relevance != null) {
          counts = countUpstreams(i, relevance, instance.getKey(), current);
        } else if (counts == null) {
          counts = countUpstreams(i, null, TaskInstanceRef.UNMAPPED, current);
        }
        TaskInstanceRef ref = new TaskInstanceRef(task.taskId(), instance.getKey());
        TriggerDecision decision = TriggerRules.evaluate(task.triggerRule(), counts, ref.mapIndex(),
            upstreamPositions[i].length > 0);
        TaskState settled = switch (decision) {
          case READY -> {
            if (task.needsExpansion() && ref.mapIndex() == TaskInstanceRef.UNMAPPED) {
              expand.add(task.taskId());
            } else {
              ready.add(ref);
            }
            yield null;
          }
          case SKIP -> TaskState.SKIPPED;
          case UPSTREAM_FAILED -> TaskState.UPSTREAM_FAILED;
          case REMOVED -> TaskState.REMOVED;
          case WAIT -> null;
        };
        if (settled != null) {
          current.set(i, ref.mapIndex(), settled);
          mark.put(ref, settled);
        }
      }
    }
    List<TaskInstanceRef> start = ready.stream()
        .sorted(Comparator.comparing((TaskInstanceRef r) -> -weights.get(r.taskId())).thenComparing(r -> r))
        .toList();
    boolean nothingToDo = start.isEmpty() && expand.isEmpty();
    return new DagRunDecisions(start, expand, mark, nothingToDo ? runState(current) : Optional.empty());
  }

  /**
   * The run's task instances by task position: the unmapped instance (map index -1) of each task
   * (absent = not started), and the map indexes of expanded mapped tasks, which replace it.
   */
  private final class RunStates {
    private final TaskState[] unmapped = new TaskState[tasks.size()];
    private final Map<Integer, TreeMap<Integer, TaskState>> expanded = new HashMap<>();

    RunStates(Map<TaskInstanceRef, TaskState> states) {
      states.forEach((ref, state) -> {
        Integer position = positions.get(ref.taskId());
        if (position == null) {
          throw new InvalidDagException("DAG '" + plan.dagId() + "' has no task '" + ref.taskId() + "'");
        }
        set(position, ref.mapIndex(), state);
      });
    }

    void set(int position, int mapIndex, TaskState state) {
      if (mapIndex == TaskInstanceRef.UNMAPPED) {
        unmapped[position] = state;
      } else {
        expanded.computeIfAbsent(position, k -> new TreeMap<>()).put(mapIndex, state);
      }
    }

    /** Map index to state, in map-index order (marking an instance meanwhile is {@link #set}). */
    Map<Integer, TaskState> instances(int position) {
      TreeMap<Integer, TaskState> indexes = expanded.get(position);
      if (indexes != null) {
        return indexes;
      }
      return Map.of(TaskInstanceRef.UNMAPPED, unmapped[position] == null ? TaskState.NONE : unmapped[position]);
    }
  }

  /**
   * The states of the upstream instances relevant to one instance of the task: all instances of each
   * upstream task, except inside mapped TaskGroups ({@link UpstreamMapIndexes}).
   *
   * @param relevance which upstream instances count, for a task in a mapped group; null: all of them
   */
  private UpstreamCounts countUpstreams(int position, UpstreamMapIndexes.ForTask relevance, int mapIndex,
                                        RunStates states) {
    int total = 0, success = 0, skipped = 0, failed = 0, upstreamFailed = 0, removed = 0;
    int setup = 0, successSetup = 0, skippedSetup = 0;
    for (int slot = 0; slot < upstreamPositions[position].length; slot++) {
      int upstream = upstreamPositions[position][slot];
      boolean isSetup = tasks.get(upstream).setup();
      int[] relevant = relevance == null ? UpstreamMapIndexes.ALL : relevance.relevant(mapIndex, slot);
      for (TaskState state : UpstreamMapIndexes.counted(states.instances(upstream), relevant)) {
        total++;
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
    }
    return new UpstreamCounts(total, success, skipped, failed, upstreamFailed, removed, setup, successSetup, skippedSetup);
  }

  /** The run's final state once nothing can start any more; empty while instances are still running. */
  private Optional<TaskState> runState(RunStates states) {
    boolean unfinished = false;
    boolean inFlight = false;
    for (int i = 0; i < tasks.size(); i++) {
      for (TaskState state : states.instances(i).values()) {
        if (!state.finished()) {
          unfinished = true;
          inFlight |= state != TaskState.NONE;
        }
      }
    }
    if (unfinished) {
      // Not-started instances whose rules wait on finished upstreams only can never run: a deadlock.
      return inFlight ? Optional.empty() : Optional.of(TaskState.FAILED);
    }
    List<TaskState> leafStates = effectiveLeaves().stream()
        .flatMap(t -> states.instances(positions.get(t.taskId())).values().stream())
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

  /**
   * Airflow's {@code priority_weight_total} per task, for the built-in weight rules: its own weight
   * plus those of every task downstream (or upstream) of it. The reachable sets are bitsets built
   * once in topological order: walking the graph from each task is quadratic in set operations,
   * over a second for a 5,000-task chain, which Temporal's deadlock detector takes for a hung
   * workflow thread.
   */
  private Map<String, Integer> priorityWeights() {
    BitSet[] downstream = null;
    BitSet[] upstream = null;
    Map<String, Integer> result = new HashMap<>();
    for (int i = 0; i < tasks.size(); i++) {
      TaskPlan task = tasks.get(i);
      BitSet related = switch (task.weightRule()) {
        case "downstream" -> (downstream = downstream != null ? downstream : reachable(true))[i];
        case "upstream" -> (upstream = upstream != null ? upstream : reachable(false))[i];
        default -> new BitSet(); // "absolute", and custom strategies we cannot evaluate: own weight
      };
      result.put(task.taskId(), task.priorityWeight()
          + related.stream().map(j -> tasks.get(j).priorityWeight()).sum());
    }
    return result;
  }

  /** For each plan position, the positions reachable from it downstream (or upstream). */
  private BitSet[] reachable(boolean downstream) {
    int n = tasks.size();
    List<List<Integer>> downstreamPositions = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      downstreamPositions.add(new ArrayList<>());
    }
    int[] waiting = new int[n];
    for (int i = 0; i < n; i++) {
      waiting[i] = upstreamPositions[i].length;
      for (int up : upstreamPositions[i]) {
        downstreamPositions.get(up).add(i);
      }
    }
    int[] order = new int[n]; // Kahn's topological order, upstreams first
    int head = 0;
    int tail = 0;
    for (int i = 0; i < n; i++) {
      if (waiting[i] == 0) {
        order[tail++] = i;
      }
    }
    while (head < tail) {
      for (int down : downstreamPositions.get(order[head++])) {
        if (--waiting[down] == 0) {
          order[tail++] = down;
        }
      }
    }
    if (tail < n) {
      throw new InvalidDagException("DAG '" + plan.dagId() + "' has a cycle: Airflow would not have serialized it");
    }
    BitSet[] reach = new BitSet[n];
    for (int k = 0; k < n; k++) {
      int i = order[downstream ? n - 1 - k : k];
      BitSet set = new BitSet(n);
      List<Integer> next = downstream ? downstreamPositions.get(i) : Arrays.stream(upstreamPositions[i]).boxed().toList();
      for (int j : next) {
        set.set(j);
        set.or(reach[j]);
      }
      reach[i] = set;
    }
    return reach;
  }
}
