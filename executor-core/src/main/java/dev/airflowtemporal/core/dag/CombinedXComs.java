package dev.airflowtemporal.core.dag;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * One argument a task or TaskGroup is mapped over that combines the values of several tasks:
 * {@code a.zip(b, ...)} ({@code SchedulerZipXComArg}) or {@code a.concat(b, ...)}
 * ({@code SchedulerConcatXComArg}). Each combined value counts as its task's value ({@code .map(f)} of it
 * as well).
 *
 * @param function {@link #ZIP} or {@link #CONCAT}
 * @param fillvalue for a zip, whether it has a fillvalue (it then runs to the longest value, else to the shortest)
 * @param taskIds the tasks whose values are combined, in order
 */
public record CombinedXComs(String function, boolean fillvalue, List<String> taskIds) {
  public static final String ZIP = "zip";
  public static final String CONCAT = "concat";

  public CombinedXComs {
    if (!ZIP.equals(function) && !CONCAT.equals(function)) {
      throw new IllegalArgumentException("XComs combine by zip or concat, not " + function);
    }
    taskIds = List.copyOf(Objects.requireNonNull(taskIds, "taskIds"));
  }

  /**
   * Airflow's {@code get_task_map_length} of the combination: a zip is as long as its shortest value (its
   * longest with a fillvalue), a concat as all of them together.
   *
   * @return empty while any combined value's length is unknown
   */
  public OptionalInt length(Map<String, Integer> lengths) {
    int combined = 0;
    for (int i = 0; i < taskIds.size(); i++) {
      Integer length = lengths.get(taskIds.get(i));
      if (length == null) {
        return OptionalInt.empty();
      }
      if (CONCAT.equals(function)) {
        combined += length;
      } else {
        combined = i == 0 ? length : fillvalue ? Math.max(combined, length) : Math.min(combined, length);
      }
    }
    return OptionalInt.of(combined);
  }
}
