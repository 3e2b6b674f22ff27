package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.PackedPlan;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.SettledAttempt;
import dev.airflowtemporal.core.dag.TaskInstanceMark;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskInstanceSnapshot;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Everything a Temporal-owned workflow reads from and writes to Airflow's DB, through
 * airflow-db-sync. Each method is one or a few short transactions and is safe to retry: an
 * activity retried after a crash neither duplicates nor regresses a row.
 */
@ActivityInterface
public interface DagRunSyncActivities {
  /** The failure type of a request refused before anything was written; never retried. */
  String REJECTED = "DagRunRejected";

  /**
   * The failure type of a write refused because Airflow cleared the run since the workflow read it
   * ({@link OwnedRun#clearNumber()} is behind the run's clear_number): nothing was written, the
   * workflow reads the run back ({@link #resumeDagRun}) and decides again. Never retried.
   */
  String CLEARED = "DagRunCleared";

  /**
   * The failure type of a step that could not reach Airflow's DB (connection refused or lost, the
   * server shutting down or not accepting connections, a deadlock or serialization failure): the
   * only failure that is retried. Every other failure of a step is permanent (non-retryable): a
   * constraint, data or schema error, a run refused, or a bug; see {@link DatabaseFailures}.
   */
  String DATABASE_UNAVAILABLE = "DatabaseUnavailable";

  /**
   * Checks the request against the DAG's latest serialized version (DAG known and parseable, pools
   * exist and are big enough, conf an object, logical date free), then creates the DagRun
   * ({@code run_type='external'}, running; queued while the DAG's max_active_runs are running) and its
   * TaskInstances.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #REJECTED} naming the problem
   */
  @ActivityMethod(name = "create_dag_run")
  CreatedDagRun createDagRun(OwnedDagRunRequest request);

  /**
   * Reads a run Airflow cleared (or that waits queued) back from its DB. In one transaction on the
   * locked DagRun row: an external run in state queued (a finished run that was cleared, or one created
   * queued) becomes running if the DAG's max_active_runs allow, as Airflow's scheduler starts a queued
   * run; a run left queued, or one that has ended, is returned with nothing to drive. A run found
   * running is driven too: Temporal runs one workflow per DagRun (its workflow id), so no other
   * workflow drives it — it is this workflow's own earlier resume (a retry after the commit), or the
   * run of a workflow that is gone. Then task instances that no try of the caller has in flight are
   * made resumable as Airflow would: restarting (cleared while running) back to None, tries left
   * queued or running by no one failed as handle_failure would. Returns the run with its
   * clear_number, its DAG version's plan and every task instance.
   *
   * @param inFlight task instances whose tries the caller is running: left as they are
   */
  @ActivityMethod(name = "resume_dag_run")
  ResumedDagRun resumeDagRun(String dagId, String runId, List<TaskInstanceRef> inFlight);

  /** The plan of a DAG version, for a workflow that continued as new. */
  @ActivityMethod(name = "load_plan")
  PackedPlan loadPlan(String dagId, UUID dagVersionId);

  /**
   * Queues the attempts in the given (priority) order while their pools have open slots.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED}, nothing queued
   */
  @ActivityMethod(name = "queue_attempts")
  List<QueueResult> queueAttempts(OwnedRun run, List<AttemptToQueue> attempts);

  /**
   * Starts tries in Airflow's triggerer instead of on a worker, as the scheduler's {@code defer_task} does for a
   * task with {@code start_from_trigger}: a {@code trigger} row with the task's start_trigger_args (kwargs
   * encrypted with Airflow's fernet key, which stays on this host) and the TI deferred on it at its next try.
   * Answers {@link QueueResult.Outcome#DEFERRED}, or {@link QueueResult.Outcome#NOT_QUEUEABLE} for a TI Airflow
   * settled first.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED}, nothing deferred
   */
  @ActivityMethod(name = "defer_attempts")
  List<QueueResult> deferAttempts(OwnedRun run, List<AttemptToDefer> attempts);

  /**
   * Reads back the TI after its runner ended. When the runner left it queued or running (it could
   * not start, crashed, or was killed at the time limit), fails it as Airflow's handle_failure
   * would: up_for_retry while the task has retries and the try is within max_tries, else failed.
   * A try that waits without a runner (up_for_reschedule, with the reschedule date the Execution API
   * recorded; deferred; awaiting_input; or scheduled, already resumed) is returned as it is.
   * A try Airflow cleared while it ran (restarting) goes back to None to run again, as Airflow's
   * scheduler does; one cleared before it ran reads as None.
   *
   * @param since when the attempt was queued: skips written after it are the attempt's
   * @param taskRetries the task's retries (whether this try may be retried also depends on the TI's
   *     max_tries, which a clear raises to try_number + retries)
   */
  @ActivityMethod(name = "settle_attempt")
  SettledAttempt settleAttempt(OwnedRun run, String taskId, int mapIndex, int tryNumber, Instant since,
                               int taskRetries);

  /**
   * The given task instances of the run as Airflow's DB has them now (those that exist): what became of
   * tries parked for Airflow to resume (deferred, awaiting_input). Reads only.
   */
  @ActivityMethod(name = "read_task_instances")
  List<TaskInstanceSnapshot> readTaskInstances(OwnedRun run, List<TaskInstanceRef> refs);

  /**
   * Settles task instances that have no state yet without running them: skipped, upstream_failed
   * or removed as the trigger rules decided, success (try 1) for a plain EmptyOperator.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED}, nothing marked
   */
  @ActivityMethod(name = "mark_tasks")
  void markTasks(OwnedRun run, List<TaskInstanceMark> marks);

  /**
   * Expands a mapped task whose trigger rule is met into as many task instances as the lengths its
   * upstreams recorded (and its literal inputs) give, as Airflow's {@code expand_mapped_task} does;
   * no instance (skipped) for zero.
   *
   * @param priorityWeight what the new instances store as priority_weight
   * @return how many instances it has, or -1 when an upstream it maps over recorded no length (it
   *     then cannot run: the caller marks it upstream_failed)
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED}, nothing expanded
   */
  @ActivityMethod(name = "expand_mapped_task")
  int expandMappedTask(OwnedRun run, TaskPlan task, int priorityWeight);

  /**
   * Ends the DagRun as {@code success} or {@code failed}; a run already ended is left alone.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED} when Airflow cleared the
   *     run since the workflow read it: it is left running (or queued) to be read back and resumed
   */
  @ActivityMethod(name = "finish_dag_run")
  void finishDagRun(OwnedRun run, String state);

  /**
   * Fails the running DagRun for its DAG's dagrun_timeout, as Airflow's scheduler does: its unfinished task
   * instances skipped (a running try's runner is stopped by the Execution API), the run failed, the DAG's
   * failure callback requested with reason timed_out. A run already ended is left alone.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #CLEARED} when Airflow cleared the
   *     run since the workflow read it: left running to be read back
   */
  @ActivityMethod(name = "time_out_dag_run")
  void timeOutDagRun(OwnedRun run);

  /**
   * Fails a run its workflow cannot drive any further (a bug, a permanent DB error, a DB outage past
   * its bound, a cancel), as the UI's "Mark run as failed" does: running task instances failed, the
   * other unfinished ones skipped, the run failed; a run already ended is left alone. Logs the reason.
   */
  @ActivityMethod(name = "fail_dag_run")
  void failDagRun(String dagId, String runId, String reason);
}
