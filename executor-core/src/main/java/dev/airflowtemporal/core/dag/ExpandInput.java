package dev.airflowtemporal.core.dag;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * What a dynamically mapped task ({@code .expand} / {@code .expand_kwargs}) maps over, reduced to
 * what decides how many task instances it gets: Airflow multiplies the lengths of every argument
 * it maps over ({@code DictOfListsExpandInput}), and a {@code ListOfDictsExpandInput} has one
 * argument. Literal lists count as they are; an upstream's returned list counts as the length its
 * runner recorded ({@code task_map}) when it finished.
 *
 * @param literalLengths lengths of the literal lists/dicts mapped over
 * @param upstreamTaskIds tasks whose returned value is mapped over, one entry per argument
 */
public record ExpandInput(List<Integer> literalLengths, List<String> upstreamTaskIds) {
  public ExpandInput {
    literalLengths = List.copyOf(literalLengths);
    upstreamTaskIds = List.copyOf(upstreamTaskIds);
  }

  /**
   * @param upstreamLengths the recorded length of each upstream's returned value
   * @return how many task instances the task expands to; empty while an upstream's length is unknown
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
