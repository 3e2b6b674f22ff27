package dev.airflowtemporal.core.dag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One argument a task or TaskGroup is mapped over that combines the values of several tasks:
 * {@code a.zip(b, ...)} ({@code SchedulerZipXComArg}) or {@code a.concat(b, ...)}
 * ({@code SchedulerConcatXComArg}), whose arguments may be combinations again ({@code a.zip(b.concat(c))},
 * {@code a.concat(b.zip(c).map(f))}): a tree whose leaves are tasks' values. {@code .map(f)} of a value or of a
 * combination counts as what it maps, as Airflow's {@code get_task_map_length} reads a
 * {@code SchedulerMapXComArg}, so the tree has no node for it.
 *
 * <p>The arguments are kept by kind, tasks' values and nested combinations apart: the shortest, the longest and
 * the sum do not depend on their order.
 *
 * @param function {@link #ZIP} or {@link #CONCAT}
 * @param fillvalue for a zip, whether it has a fillvalue (it then runs to the longest value, else to the shortest)
 * @param taskIds the tasks whose values are combined directly, in order
 * @param combined the combinations among its arguments, in order (absent from plans packed before they could
 *     be: none)
 */
public record CombinedXComs(String function, boolean fillvalue, List<String> taskIds, List<CombinedXComs> combined) {
  public static final String ZIP = "zip";
  public static final String CONCAT = "concat";

  public CombinedXComs {
    if (!ZIP.equals(function) && !CONCAT.equals(function)) {
      throw new IllegalArgumentException("XComs combine by zip or concat, not " + function);
    }
    taskIds = List.copyOf(Objects.requireNonNull(taskIds, "taskIds"));
    combined = List.copyOf(Objects.requireNonNullElse(combined, List.of()));
    if (taskIds.isEmpty() && combined.isEmpty()) {
      throw new IllegalArgumentException("a " + function + "() combines at least one value");
    }
  }

  /** Of tasks' values alone. */
  public CombinedXComs(String function, boolean fillvalue, List<String> taskIds) {
    this(function, fillvalue, taskIds, List.of());
  }

  /** Every task whose value this combines, at any depth, in the order met (repeats kept). */
  public List<String> allTaskIds() {
    List<String> all = new ArrayList<>(taskIds);
    combined.forEach(nested -> all.addAll(nested.allTaskIds()));
    return all;
  }

  /**
   * Airflow's {@code get_task_map_length} of the combination: a zip is as long as its shortest argument (its
   * longest with a fillvalue), a concat as all of them together; a nested combination's length is computed the
   * same way first.
   *
   * @return empty while any combined value's length is unknown
   */
  public OptionalInt length(Map<String, Integer> lengths) {
    List<Integer> argumentLengths = new ArrayList<>();
    for (String taskId : taskIds) {
      Integer length = lengths.get(taskId);
      if (length == null) {
        return OptionalInt.empty();
      }
      argumentLengths.add(length);
    }
    for (CombinedXComs nested : combined) {
      OptionalInt length = nested.length(lengths);
      if (length.isEmpty()) {
        return OptionalInt.empty();
      }
      argumentLengths.add(length.getAsInt());
    }
    var stream = argumentLengths.stream().mapToInt(Integer::intValue);
    if (CONCAT.equals(function)) {
      return OptionalInt.of(stream.sum());
    }
    return fillvalue ? stream.max() : stream.min();
  }
}
