package dev.airflowtemporal.core.dag;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.EnumSet;
import java.util.Set;

/** Airflow 3.3's TaskInstanceState values a Temporal-owned run moves through, plus "none" (not started). */
public enum TaskState {
  NONE("none"),
  SCHEDULED("scheduled"),
  QUEUED("queued"),
  RUNNING("running"),
  UP_FOR_RETRY("up_for_retry"),
  SUCCESS("success"),
  FAILED("failed"),
  SKIPPED("skipped"),
  UPSTREAM_FAILED("upstream_failed"),
  REMOVED("removed");

  /** Airflow's {@code State.finished}. */
  public static final Set<TaskState> FINISHED = EnumSet.of(SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED);
  /** Airflow's {@code State.failed_states}. */
  public static final Set<TaskState> FAILED_STATES = EnumSet.of(FAILED, UPSTREAM_FAILED);
  /** Airflow's {@code State.success_states}. */
  public static final Set<TaskState> SUCCESS_STATES = EnumSet.of(SUCCESS, SKIPPED);

  private final String airflowName;

  TaskState(String airflowName) {
    this.airflowName = airflowName;
  }

  /** The value in {@code task_instance.state} (null in the DB for {@link #NONE}). */
  @JsonValue
  public String airflowName() {
    return airflowName;
  }

  public boolean finished() {
    return FINISHED.contains(this);
  }
}
