package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** How many instances an expand input gives, as Airflow's {@code get_total_map_length} multiplies its arguments. */
class ExpandInputTest {
  private static final Map<String, Integer> LENGTHS = Map.of("three", 3, "five", 5, "none", 0);

  static Stream<Arguments> totalLength() {
    return Stream.of(
        Arguments.of("literals multiply", new ExpandInput(List.of(2, 3), List.of()), OptionalInt.of(6)),
        Arguments.of("an upstream's value times a literal", new ExpandInput(List.of(2), List.of("three")), OptionalInt.of(6)),
        Arguments.of("an empty value empties all", new ExpandInput(List.of(2), List.of("three", "none")), OptionalInt.of(0)),
        Arguments.of("an unknown length leaves it unknown", new ExpandInput(List.of(), List.of("three", "unknown")),
            OptionalInt.empty()),
        Arguments.of("zip: the shortest", combined(CombinedXComs.ZIP, false, "five", "three"), OptionalInt.of(3)),
        Arguments.of("zip with a fillvalue: the longest", combined(CombinedXComs.ZIP, true, "three", "five"),
            OptionalInt.of(5)),
        Arguments.of("concat: all together", combined(CombinedXComs.CONCAT, false, "three", "five", "three"),
            OptionalInt.of(11)),
        Arguments.of("a combination of an unknown length", combined(CombinedXComs.CONCAT, false, "three", "unknown"),
            OptionalInt.empty()),
        Arguments.of("zip of a concat: the shortest of a value and the sum",
            nested(new CombinedXComs(CombinedXComs.ZIP, false, List.of("five"), List.of(concat("three", "three")))),
            OptionalInt.of(5)),
        Arguments.of("concat of a zip with a fillvalue: its longest counts",
            nested(new CombinedXComs(CombinedXComs.CONCAT, false, List.of("three"),
                List.of(new CombinedXComs(CombinedXComs.ZIP, true, List.of("three", "five"))))),
            OptionalInt.of(8)),
        Arguments.of("concat of a zip without one: its shortest counts",
            nested(new CombinedXComs(CombinedXComs.CONCAT, false, List.of("three"),
                List.of(new CombinedXComs(CombinedXComs.ZIP, false, List.of("three", "five"))))),
            OptionalInt.of(6)),
        Arguments.of("zip of combinations only, two levels deep",
            nested(new CombinedXComs(CombinedXComs.ZIP, false, List.of(), List.of(concat("three", "five"),
                new CombinedXComs(CombinedXComs.CONCAT, false, List.of("none"), List.of(concat("five", "five")))))),
            OptionalInt.of(8)),
        Arguments.of("a nested combination of an unknown length leaves it unknown",
            nested(new CombinedXComs(CombinedXComs.ZIP, true, List.of("five"), List.of(concat("three", "unknown")))),
            OptionalInt.empty()),
        Arguments.of("a nested combination times a literal and an upstream's value",
            new ExpandInput(List.of(2), List.of("three"), List.of(),
                List.of(new CombinedXComs(CombinedXComs.ZIP, false, List.of("five"), List.of(concat("three", "none"))))),
            OptionalInt.of(18)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource
  void totalLength(String what, ExpandInput input, OptionalInt expected) {
    assertThat(input.totalLength(LENGTHS)).isEqualTo(expected);
  }

  @Test
  void theTasksMappedOverAreFoundAtAnyDepthEachOnce() {
    ExpandInput input = new ExpandInput(List.of(), List.of("plain"), List.of(),
        List.of(new CombinedXComs(CombinedXComs.ZIP, false, List.of("a"), List.of(concat("b", "plain")))));
    assertThat(input.sourceTaskIds()).containsExactly("plain", "a", "b");
  }

  private static CombinedXComs concat(String... taskIds) {
    return new CombinedXComs(CombinedXComs.CONCAT, false, List.of(taskIds));
  }

  private static ExpandInput nested(CombinedXComs combined) {
    return new ExpandInput(List.of(), List.of(), List.of(), List.of(combined));
  }

  private static ExpandInput combined(String function, boolean fillvalue, String... taskIds) {
    return new ExpandInput(List.of(), List.of(), List.of(), List.of(new CombinedXComs(function, fillvalue, List.of(taskIds))));
  }
}
