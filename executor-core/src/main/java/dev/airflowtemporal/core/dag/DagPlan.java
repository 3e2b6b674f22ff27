package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a Temporal-owned DagRun needs to know about its DAG, read from Airflow's serialized DAG.
 * Immutable; the tasks form an acyclic graph whose edges all name tasks of this plan.
 *
 * @param tasks every task, in a topological order (each task after all of its upstreams), ties
 *     broken by task id so that the order is the same on every replay
 * @param maxActiveTasks how many task instances of one DagRun may run at once
 * @param dagrunTimeout the DAG's {@code dagrun_timeout}: how long after its start a run is failed, its
 *     unfinished task instances skipped (empty without one, and in plans packed before it was read)
 */
public record DagPlan(String dagId, Timetable timetable, int maxActiveTasks, List<TaskPlan> tasks,
                      Optional<Duration> dagrunTimeout) {
  public DagPlan {
    Objects.requireNonNull(dagId, "dagId");
    Objects.requireNonNull(timetable, "timetable");
    tasks = List.copyOf(tasks);
    dagrunTimeout = dagrunTimeout == null ? Optional.empty() : dagrunTimeout;
  }

  /** The task with this id; {@link InvalidDagException} naming the DAG when there is none. */
  public TaskPlan task(String taskId) {
    for (TaskPlan task : tasks) {
      if (task.taskId().equals(taskId)) {
        return task;
      }
    }
    throw new InvalidDagException("DAG '" + dagId + "' has no task '" + taskId + "'");
  }

  /** Tasks without upstreams: the ones a new DagRun starts with. */
  public List<TaskPlan> roots() {
    return tasks.stream().filter(task -> task.upstreamIds().isEmpty()).toList();
  }
}
