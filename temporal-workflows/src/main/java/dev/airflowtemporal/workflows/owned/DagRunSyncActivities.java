package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.PackedPlan;
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
   * Checks the request against the DAG's latest serialized version (DAG known and parseable, pools
   * exist and are big enough, conf an object, logical date free), then creates the DagRun
   * ({@code run_type='external'}, running) and its TaskInstances.
   *
   * @throws io.temporal.failure.ApplicationFailure of type {@link #REJECTED} naming the problem
   */
  @ActivityMethod(name = "create_dag_run")
  CreatedDagRun createDagRun(OwnedDagRunRequest request);

  /** The plan of a DAG version, for a workflow that continued as new. */
  @ActivityMethod(name = "load_plan")
  PackedPlan loadPlan(String dagId, UUID dagVersionId);

  /** Queues the attempts in the given (priority) order while their pools have open slots. */
  @ActivityMethod(name = "queue_attempts")
  List<QueueResult> queueAttempts(OwnedRun run, List<AttemptToQueue> attempts);

  /**
   * Reads back the TI after its runner ended. When the runner left it queued or running (it could
   * not start, crashed, or was killed at the time limit), fails it as Airflow's handle_failure
   * would: up_for_retry when {@code retryable}, else failed.
   *
   * @param since when the attempt was queued: skips written after it are the attempt's
   */
  @ActivityMethod(name = "settle_attempt")
  SettledAttempt settleAttempt(OwnedRun run, String taskId, int mapIndex, int tryNumber, Instant since,
                               boolean retryable);

  /**
   * Settles task instances that have no state yet without running them: skipped, upstream_failed
   * or removed as the trigger rules decided, success (try 1) for a plain EmptyOperator.
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
   */
  @ActivityMethod(name = "expand_mapped_task")
  int expandMappedTask(OwnedRun run, TaskPlan task, int priorityWeight);

  /** Ends the DagRun as {@code success} or {@code failed}; a run already ended is left alone. */
  @ActivityMethod(name = "finish_dag_run")
  void finishDagRun(OwnedRun run, String state);
}
