package dev.airflowtemporal.core.dag;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What a dynamically mapped task ({@code .expand} / {@code .expand_kwargs}) or a mapped TaskGroup
 * maps over, reduced to what decides how many task instances it gets: Airflow multiplies the
 * lengths of every argument it maps over ({@code SchedulerDictOfListsExpandInput}), and a
 * {@code SchedulerListOfDictsExpandInput} has one argument. Literal lists count as they are; an
 * upstream's returned value counts as Airflow's {@code get_task_map_length} reads it: for an
 * unmapped upstream the length its runner recorded in {@code task_map}, for a mapped upstream the
 * number of values its instances returned, once all of them have finished.
 *
 * @param literalLengths lengths of the literal lists/dicts mapped over
 * @param upstreamTaskIds tasks whose returned value is mapped over, one entry per argument
 * @param mappedUpstreamTaskIds those of the tasks mapped over ({@link #sourceTaskIds}) that are mapped tasks
 *     themselves (absent from plans packed before they could be: none)
 * @param combinedXComs arguments that zip or concat several tasks' values (nested combinations too), one entry per
 *     argument (absent from plans packed before they could be: none)
 */
public record ExpandInput(List<Integer> literalLengths, List<String> upstreamTaskIds, List<String> mappedUpstreamTaskIds,
                          List<CombinedXComs> combinedXComs) {
  public ExpandInput {
    literalLengths = List.copyOf(literalLengths);
    upstreamTaskIds = List.copyOf(upstreamTaskIds);
    mappedUpstreamTaskIds = List.copyOf(Objects.requireNonNullElse(mappedUpstreamTaskIds, List.of()));
    combinedXComs = List.copyOf(Objects.requireNonNullElse(combinedXComs, List.of()));
  }

  /** Over literals and unmapped upstreams only. */
  public ExpandInput(List<Integer> literalLengths, List<String> upstreamTaskIds) {
    this(literalLengths, upstreamTaskIds, List.of(), List.of());
  }

  /** Every task whose value is mapped over, plainly or combined at any depth, each once. */
  public List<String> sourceTaskIds() {
    Set<String> sources = new LinkedHashSet<>(upstreamTaskIds);
    combinedXComs.forEach(combined -> sources.addAll(combined.allTaskIds()));
    return List.copyOf(sources);
  }

  /** Whether the task (one of {@link #sourceTaskIds}) is a mapped task. */
  public boolean mapsOverMappedTask(String upstreamTaskId) {
    return mappedUpstreamTaskIds.contains(upstreamTaskId);
  }

  /**
   * @param upstreamLengths the length of each source task's returned value, as far as it is known
   * @return how many task instances this input expands to; empty while an upstream's length is unknown
   */
  public OptionalInt totalLength(Map<String, Integer> upstreamLengths) {
    long total = 1;
    for (int length : literalLengths) {
      total *= length;
    }
    for (String upstream : upstreamTaskIds) {
      Integer length = upstreamLengths.get(upstream);
      if (length == null) {
        return OptionalInt.empty();
      }
      total *= length;
    }
    for (CombinedXComs combined : combinedXComs) {
      OptionalInt length = combined.length(upstreamLengths);
      if (length.isEmpty()) {
        return OptionalInt.empty();
      }
      total *= length.getAsInt();
    }
    return OptionalInt.of(Math.toIntExact(total));
  }
}
