package dev.airflowtemporal.workflows.task;

import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/** Activities that run Airflow task attempts on the host of the worker that picks them up. */
@ActivityInterface
public interface TaskActivities {

  /**
   * Runs Airflow's own task runner for one attempt (forked by the worker host's runner server, or
   * spawned) and waits for it, heartbeating while it lives.
   * Cancellation kills the runner's whole process tree. A runner that cannot start is reported in
   * the result (and in the task's Airflow log), not thrown, so the attempt fails once and visibly.
   */
  @ActivityMethod(name = "run_task")
  TaskAttemptResult runTask(TaskAttempt attempt);

  /**
   * Temporal-owned mode: the same, for a workload without a token; the runner
   * ({@code python -m airflow_temporal.worker.task_runner}) mints the token on this host with Airflow's
   * own signing key, so no credential passes through Temporal.
   */
  @ActivityMethod(name = "run_owned_task")
  TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload);

  /**
   * Takes over watching a runner this worker process started, after Temporal timed out the
   * execution that watched it (the server was out of reach, or the worker too busy to heartbeat).
   * Scheduled on the process's own task queue ({@link RunnerWhereabouts#reattachQueue}); a process
   * that does not know the runner any more answers at once that the attempt is lost, and a dead
   * process does not answer: the workflow's schedule-to-start timeout says so.
   */
  @ActivityMethod(name = RunnerReattach.ACTIVITY_TYPE)
  TaskAttemptResult reattachTask(RunnerWhereabouts whereabouts);
}
