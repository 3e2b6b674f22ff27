package dev.airflowtemporal.core.wire;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What the executor reports to Airflow's event buffer once the runner process is gone. It says
 * whether the runner finished, not how the task ended: the runner itself has already written the
 * task's state through Airflow's Execution API (same meaning as LocalExecutor's events).
 */
public enum OutcomeState {
  SUCCESS("success"),
  FAILED("failed");

  private final String wire;

  OutcomeState(String wire) {
    this.wire = wire;
  }

  @JsonValue
  public String wire() {
    return wire;
  }
}
