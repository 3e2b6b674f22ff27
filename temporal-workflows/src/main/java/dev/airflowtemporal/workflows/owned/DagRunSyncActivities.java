package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;
import java.time.Instant;
import java.util.List;
import java.util.Map;
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
  DagPlan loadPlan(String dagId, UUID dagVersionId);

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

  /** Sets tasks the trigger rules settled (skipped, upstream_failed, removed) that have no state yet. */
  @ActivityMethod(name = "mark_tasks")
  void markTasks(OwnedRun run, Map<String, String> statesByTaskId);

  /** Ends the DagRun as {@code success} or {@code failed}; a run already ended is left alone. */
  @ActivityMethod(name = "finish_dag_run")
  void finishDagRun(OwnedRun run, String state);
}
