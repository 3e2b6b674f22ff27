package dev.airflowtemporal.core.dag;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;

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
 * @param mappedUpstreamTaskIds those of {@code upstreamTaskIds} that are mapped tasks themselves
 *     (absent from plans packed before they could be: none)
 */
public record ExpandInput(List<Integer> literalLengths, List<String> upstreamTaskIds, List<String> mappedUpstreamTaskIds) {
  public ExpandInput {
    literalLengths = List.copyOf(literalLengths);
    upstreamTaskIds = List.copyOf(upstreamTaskIds);
    mappedUpstreamTaskIds = List.copyOf(Objects.requireNonNullElse(mappedUpstreamTaskIds, List.of()));
  }

  /** Over literals and unmapped upstreams only. */
  public ExpandInput(List<Integer> literalLengths, List<String> upstreamTaskIds) {
    this(literalLengths, upstreamTaskIds, List.of());
  }

  /** Whether the upstream (one of {@link #upstreamTaskIds}) is a mapped task. */
  public boolean mapsOverMappedTask(String upstreamTaskId) {
    return mappedUpstreamTaskIds.contains(upstreamTaskId);
  }

  /**
   * @param upstreamLengths the length of each upstream's returned value, as far as it is known
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
    return OptionalInt.of(Math.toIntExact(total));
  }
}
