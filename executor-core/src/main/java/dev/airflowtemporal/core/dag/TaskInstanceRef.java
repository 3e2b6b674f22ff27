package dev.airflowtemporal.core.dag;

import java.util.Comparator;
import java.util.Objects;

/**
 * One task instance of a DagRun: a task and, for a mapped task, its map index (-1 for an unmapped
 * task, and for a mapped task before it is expanded).
 */
public record TaskInstanceRef(String taskId, int mapIndex) implements Comparable<TaskInstanceRef> {
  public static final int UNMAPPED = -1;
  private static final Comparator<TaskInstanceRef> ORDER =
      Comparator.comparing(TaskInstanceRef::taskId).thenComparingInt(TaskInstanceRef::mapIndex);

  public TaskInstanceRef {
    Objects.requireNonNull(taskId, "taskId");
  }

  public static TaskInstanceRef of(String taskId) {
    return new TaskInstanceRef(taskId, UNMAPPED);
  }

  /** {@code task} or {@code task[3]}, as Airflow's UI labels mapped instances. */
  public String label() {
    return mapIndex < 0 ? taskId : taskId + "[" + mapIndex + "]";
  }

  @Override
  public int compareTo(TaskInstanceRef other) {
    return ORDER.compare(this, other);
  }
}
