package dev.airflowtemporal.core.schedule;

/** One step that makes Temporal's managed schedules match the opted-in DAGs. */
public sealed interface ScheduleChange {
  String dagId();

  /** The DAG opted in (or appeared) and has no schedule yet. */
  record Create(String dagId, DagSchedule schedule, boolean paused) implements ScheduleChange {}

  /** The DAG's timetable changed: replace the spec (and set the paused state with it). */
  record Update(String dagId, DagSchedule schedule, boolean paused) implements ScheduleChange {}

  /** The DAG was paused in Airflow. */
  record Pause(String dagId) implements ScheduleChange {}

  /** The DAG was unpaused in Airflow. */
  record Unpause(String dagId) implements ScheduleChange {}

  /** The DAG opted out, lost its timetable, went stale or was deleted. */
  record Delete(String dagId) implements ScheduleChange {}
}
