package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.PackedPlan;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
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
   * run; with {@code onlyIfQueued} any other state, or a run left queued, is left alone and nothing is
   * returned to drive, so of two starters only one resumes the run. Then task instances
   * that no try of the caller has in flight are made resumable as Airflow would: restarting (cleared
   * while running) back to None, tries left queued or running by no one failed as handle_failure
   * would. Returns the run with its clear_number, its DAG version's plan and every task instance.
   *
   * @param onlyIfQueued true for a workflow started to resume a cleared run; false for a running
   *     workflow that found its run cleared (which then drives it on unless it has ended)
   * @param inFlight task instances whose tries the caller is running: left as they are
   */
  @ActivityMethod(name = "resume_dag_run")
  ResumedDagRun resumeDagRun(String dagId, String runId, boolean onlyIfQueued, List<TaskInstanceRef> inFlight);

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
   * Reads back the TI after its runner ended. When the runner left it queued or running (it could
   * not start, crashed, or was killed at the time limit), fails it as Airflow's handle_failure
   * would: up_for_retry while the task has retries and the try is within max_tries, else failed.
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
}
