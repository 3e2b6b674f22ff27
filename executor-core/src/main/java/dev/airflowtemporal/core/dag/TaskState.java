package dev.airflowtemporal.core.dag;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.EnumSet;
import java.util.Set;

/**
 * Airflow 3.3's {@code TaskInstanceState} values, plus "none" (not started; SQL NULL in
 * {@code task_instance.state}): the one vocabulary of TI states for core, airflow-db-sync and the
 * workflows. The JSON name of each is Airflow's own ({@link #airflowName()}).
 */
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
  REMOVED("removed"),
  /** Cleared while it ran: its runner is told to stop, then it runs again. */
  RESTARTING("restarting"),
  /** A sensor in reschedule mode between pokes: the same try runs again at its reschedule date. */
  UP_FOR_RESCHEDULE("up_for_reschedule"),
  /** Handed to Airflow's triggerer, which sets it scheduled when its trigger fires. */
  DEFERRED("deferred"),
  /** Waits for a human's answer (Human-in-the-loop). */
  AWAITING_INPUT("awaiting_input");

  /** Airflow's {@code State.finished}. */
  public static final Set<TaskState> FINISHED = EnumSet.of(SUCCESS, FAILED, SKIPPED, UPSTREAM_FAILED, REMOVED);
  /** Airflow's {@code State.failed_states}. */
  public static final Set<TaskState> FAILED_STATES = EnumSet.of(FAILED, UPSTREAM_FAILED);
  /** Airflow's {@code State.unfinished}: None and every state a try is on its way through. */
  public static final Set<TaskState> UNFINISHED = EnumSet.of(NONE, SCHEDULED, QUEUED, RUNNING, RESTARTING, UP_FOR_RETRY,
      UP_FOR_RESCHEDULE, DEFERRED, AWAITING_INPUT);
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

  /**
   * The state {@code task_instance.state} holds: null is {@link #NONE}.
   *
   * @throws IllegalStateException for a value Airflow 3.3 does not have
   */
  public static TaskState fromAirflow(String airflowState) {
    if (airflowState == null) {
      return NONE;
    }
    for (TaskState state : values()) {
      if (state.airflowName.equals(airflowState)) {
        return state;
      }
    }
    throw new IllegalStateException("TaskInstance state '" + airflowState + "' is not an Airflow 3.3 state");
  }

  /** What {@code task_instance.state} holds for this state: null for {@link #NONE}. */
  public String column() {
    return this == NONE ? null : airflowName;
  }
}
