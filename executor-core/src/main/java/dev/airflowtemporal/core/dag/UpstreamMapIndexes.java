package dev.airflowtemporal.core.dag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Which instances of an upstream task count for one instance of a task in a mapped TaskGroup, as
 * Airflow 3.3's {@code TriggerRuleDep} picks them ({@code _get_relevant_upstream_map_indexes} and
 * {@code _is_relevant_upstream}, trigger_rule_dep.py lines 161-241, with
 * {@code taskinstance._get_relevant_map_indexes}): instance {@code i} of a task depends on instance
 * {@code i} of an upstream in the same mapped group, not on all of them. Outside mapped groups, and for
 * upstreams that share no mapped group with the task, every instance counts.
 *
 * <p>Airflow reads the expanded counts it divides by from the lengths upstreams recorded
 * ({@code get_mapped_ti_count}); here they are the instances the tasks were expanded into (those not
 * removed), which are the same numbers once a task is expanded. A group's count is that of an expanded
 * task directly in it; only a task nested deeper, whose upstream sits in a sibling nested group of a
 * group with no expanded task of its own, finds none, and then counts every instance of that upstream.
 * Airflow refuses a mapped task inside a mapped TaskGroup (SDK {@code MappedOperator.__attrs_post_init__}),
 * so inside a group only nested mapped groups multiply instances further.
 */
final class UpstreamMapIndexes {
  /** Every instance of the upstream counts (Airflow's {@code None}). */
  static final int[] ALL = null;
  /** Only the upstream's unexpanded instance (map index -1) counts, if it still exists. */
  private static final int[] UNEXPANDED_ONLY = {0, 0};

  private final List<TaskPlan> tasks;
  private final Map<String, Integer> positions;
  private final int[][] upstreamPositions;
  /** Per task and upstream slot: the innermost mapped group the two share, or null. */
  private final String[][] commonGroup;
  /** Per task and upstream slot: whether the upstream is mapped further inside that common group. */
  private final boolean[][] furtherMapped;
  /** Per task: whether any upstream shares a mapped group with it (else every instance counts). */
  private final boolean[] perInstance;
  /** Per task: its innermost mapped group, or null. */
  private final String[] innermostGroup;
  /** Per task: the tasks the expand inputs of it and its mapped groups read ({@code _iter_expansion_dependencies}). */
  private final List<Set<String>> expansionSources = new ArrayList<>();
  /** Per mapped group: the tasks whose innermost mapped group it is; their instance count is the group's. */
  private final Map<String, List<Integer>> innermostMembers = new HashMap<>();

  UpstreamMapIndexes(List<TaskPlan> tasks, Map<String, Integer> positions, int[][] upstreamPositions) {
    this.tasks = tasks;
    this.positions = positions;
    this.upstreamPositions = upstreamPositions;
    int n = tasks.size();
    commonGroup = new String[n][];
    furtherMapped = new boolean[n][];
    perInstance = new boolean[n];
    innermostGroup = new String[n];
    for (int i = 0; i < n; i++) {
      TaskPlan task = tasks.get(i);
      List<String> groups = groupIds(task);
      if (!groups.isEmpty()) {
        innermostGroup[i] = groups.get(0);
        innermostMembers.computeIfAbsent(groups.get(0), g -> new ArrayList<>()).add(i);
      }
      Set<String> sources = new HashSet<>();
      task.expansionInputs().forEach(input -> sources.addAll(input.sourceTaskIds()));
      expansionSources.add(sources);
      int[] ups = upstreamPositions[i];
      commonGroup[i] = new String[ups.length];
      furtherMapped[i] = new boolean[ups.length];
      for (int k = 0; k < ups.length; k++) {
        List<String> upstreamGroups = groupIds(tasks.get(ups[k]));
        for (String group : groups) {
          int depth = upstreamGroups.indexOf(group);
          if (depth >= 0) {
            commonGroup[i][k] = group;
            furtherMapped[i][k] = depth > 0 || tasks.get(ups[k]).mapped();
            perInstance[i] = true;
            break;
          }
        }
      }
    }
  }

  /** Whether the task's instances may count different upstream instances (else they share one count). */
  boolean perInstance(int position) {
    return perInstance[position];
  }

  /**
   * The relevant upstream instances of one task's instances as the run stands: built once per task and
   * decision, as Airflow computes the counts it divides by once per task ({@code lru_cache}).
   *
   * @param instances the current instances of each task (by position): map index to state
   */
  ForTask forTask(int position, IntFunction<Map<Integer, TaskState>> instances) {
    return new ForTask(position, instances);
  }

  /** See {@link #forTask}. */
  final class ForTask {
    private final int position;
    private final IntFunction<Map<Integer, TaskState>> instances;
    private Integer count;
    private Boolean expansionKnown;

    private ForTask(int position, IntFunction<Map<Integer, TaskState>> instances) {
      this.position = position;
      this.instances = instances;
    }

    /**
     * @return the half-open range {@code [from, to)} of the upstream's map indexes that count besides its
     *     unexpanded instance (which always counts while it exists), or {@link #ALL}
     */
    int[] relevant(int mapIndex, int upstreamSlot) {
      TaskPlan task = tasks.get(position);
      String upstreamId = tasks.get(upstreamPositions[position][upstreamSlot]).taskId();
      // Lines 180-194: before expansion, a rule a subset of upstreams can meet looks at all of them.
      if (mapIndex < 0 && fastTriggered(task.triggerRule()) && !expansionSources.get(position).contains(upstreamId)) {
        return ALL;
      }
      String common = commonGroup[position][upstreamSlot];
      if (common == null) {
        return ALL;
      }
      if (mapIndex < 0) {
        // map_index * ancestor_count // count is -1 for the unexpanded instance: only the upstream's
        // unexpanded one counts, once the task's count is known (NotFullyPopulated: all of them).
        if (expansionKnown == null) {
          expansionKnown = expansionKnown(position, instances);
        }
        return expansionKnown ? UNEXPANDED_ONLY : ALL;
      }
      if (count == null) {
        count = expandedCount(instances.apply(position));
      }
      int ancestorCount = common.equals(innermostGroup[position]) ? count : groupCount(common, instances);
      if (count == 0 || ancestorCount == 0) {
        return ALL;
      }
      int ancestorIndex = (int) ((long) mapIndex * ancestorCount / count);
      if (!furtherMapped[position][upstreamSlot]) {
        return new int[] {ancestorIndex, ancestorIndex + 1};
      }
      int further = count / ancestorCount;
      return new int[] {ancestorIndex * further, ancestorIndex * further + further};
    }
  }

  /**
   * The states of an upstream's instances that count: its unexpanded one (while it exists) and those in
   * the range, read by range when the instances are sorted by map index.
   */
  static <T> Collection<T> counted(Map<Integer, T> upstreamInstances, int[] relevant) {
    if (relevant == ALL) {
      return upstreamInstances.values();
    }
    if (upstreamInstances instanceof NavigableMap<Integer, T> sorted) {
      List<T> counted = new ArrayList<>(sorted.headMap(0, false).values());
      if (relevant[0] < relevant[1]) {
        counted.addAll(sorted.subMap(relevant[0], true, relevant[1], false).values());
      }
      return counted;
    }
    List<T> counted = new ArrayList<>();
    upstreamInstances.forEach((mapIndex, value) -> {
      if (mapIndex < 0 || (mapIndex >= relevant[0] && mapIndex < relevant[1])) {
        counted.add(value);
      }
    });
    return counted;
  }

  private static boolean fastTriggered(TriggerRule rule) {
    return rule == TriggerRule.ONE_SUCCESS || rule == TriggerRule.ONE_FAILED || rule == TriggerRule.ONE_DONE
        || rule == TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS;
  }

  /**
   * Whether every length the task's expansion multiplies is recorded ({@code get_task_map_length} is not
   * None): an unmapped source's when it succeeded (its runner records it then), a mapped source's once
   * none of its instances is unfinished. A source inside a mapped group never records one Airflow reads.
   */
  private boolean expansionKnown(int position, IntFunction<Map<Integer, TaskState>> instances) {
    for (String source : expansionSources.get(position)) {
      Integer sourcePosition = positions.get(source);
      if (sourcePosition == null) {
        return false;
      }
      TaskPlan sourceTask = tasks.get(sourcePosition);
      Map<Integer, TaskState> sourceInstances = instances.apply(sourcePosition);
      boolean known = sourceTask.mapped()
          ? sourceInstances.values().stream().allMatch(TaskState::finished)
          : !sourceTask.inMappedTaskGroup() && sourceInstances.get(TaskInstanceRef.UNMAPPED) == TaskState.SUCCESS;
      if (!known) {
        return false;
      }
    }
    return true;
  }

  /** Airflow's {@code get_mapped_ti_count} of a mapped group: the instances of a task directly in it. */
  private int groupCount(String groupId, IntFunction<Map<Integer, TaskState>> instances) {
    for (int member : innermostMembers.getOrDefault(groupId, List.of())) {
      int count = expandedCount(instances.apply(member));
      if (count > 0) {
        return count;
      }
    }
    return 0;
  }

  private static int expandedCount(Map<Integer, TaskState> instances) {
    int count = 0;
    for (Map.Entry<Integer, TaskState> instance : instances.entrySet()) {
      if (instance.getKey() >= 0 && instance.getValue() != TaskState.REMOVED) {
        count++;
      }
    }
    return count;
  }

  private static List<String> groupIds(TaskPlan task) {
    return task.mappedTaskGroups().stream().map(MappedTaskGroup::groupId).toList();
  }
}
