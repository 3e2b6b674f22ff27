package dev.airflowtemporal.core.dag;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Airflow 3.3's {@code airflow.task.trigger_rule.TriggerRule}, by its serialized value. */
public enum TriggerRule {
  ALL_SUCCESS("all_success"),
  ALL_FAILED("all_failed"),
  ALL_DONE("all_done"),
  ALL_DONE_MIN_ONE_SUCCESS("all_done_min_one_success"),
  ALL_DONE_SETUP_SUCCESS("all_done_setup_success"),
  ONE_SUCCESS("one_success"),
  ONE_FAILED("one_failed"),
  ONE_DONE("one_done"),
  NONE_FAILED("none_failed"),
  NONE_SKIPPED("none_skipped"),
  ALWAYS("always"),
  NONE_FAILED_MIN_ONE_SUCCESS("none_failed_min_one_success"),
  ALL_SKIPPED("all_skipped");

  private final String airflowValue;

  TriggerRule(String airflowValue) {
    this.airflowValue = airflowValue;
  }

  public String airflowValue() {
    return airflowValue;
  }

  public static TriggerRule fromAirflowValue(String value) {
    for (TriggerRule rule : values()) {
      if (rule.airflowValue.equals(value)) {
        return rule;
      }
    }
    throw new InvalidDagException("unknown trigger_rule '" + value + "'; Airflow 3.3 knows "
        + Arrays.stream(values()).map(TriggerRule::airflowValue).collect(Collectors.joining(", ")));
  }
}
