package dev.airflowtemporal.workflows;

import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.core.dag.InvalidDagException;
import dev.airflowtemporal.workflows.dagrun.DagRunWorkflowImpl;
import dev.airflowtemporal.workflows.dagrun.ExecutorWorkloadWorkflowImpl;
import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import dev.airflowtemporal.workflows.task.LiveRunners;
import dev.airflowtemporal.workflows.task.RunnerSettings;
import dev.airflowtemporal.workflows.task.TaskActivitiesImpl;
import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.FernetKeys;
import dev.airflowtemporal.workflows.owned.DagRunSyncActivities;
import dev.airflowtemporal.workflows.owned.DagRunSyncActivitiesImpl;
import dev.airflowtemporal.workflows.owned.DatabaseFailures;
import dev.airflowtemporal.workflows.owned.OwnedDagRunWorkflowImpl;
import io.temporal.common.converter.DataConverterException;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.temporal.worker.WorkflowImplementationOptions;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;

/**
 * Registers our workflows and activities on a {@link WorkerFactory}: both DagRun workflows
 * (executor mode and Temporal-owned) and the DB sync activities on the base task queue, task
 * activities on the task queue of every Airflow queue this host serves.
 */
public final class DagRunWorker {
  /** The {@code --queues} entry that stands for Airflow's default queue (the base task queue). */
  public static final String DEFAULT_QUEUE = "default";

  /**
   * A payload the workflow cannot decode, a bug in workflow code, a DAG plan it cannot read, fails the
   * workflow instead of retrying its workflow task forever: a stuck run is worse than a visibly failed
   * one. (The Temporal-owned workflow also catches these itself, to fail its DagRun first.) Not
   * IllegalStateException: a NonDeterministicException is one, and a deploy that broke replay is to be
   * rolled back while the workflow task waits, not to fail every run in flight.
   */
  public static final WorkflowImplementationOptions WORKFLOW_OPTIONS = WorkflowImplementationOptions.newBuilder()
      .setFailWorkflowExceptionTypes(DataConverterException.class, IllegalArgumentException.class,
          NullPointerException.class, ClassCastException.class, InvalidDagException.class,
          UncheckedIOException.class)
      .build();

  /**
   * How long a workflow thread may compute without yielding before the SDK calls it a potential deadlock
   * and fails the workflow task (its default: 1 s). Our workflow code never blocks; but a decision over a
   * 5,000-task plan, ~0.1 s of CPU in a warm JVM and several times that in a cold one, passed 1 s of wall
   * time on a loaded 2-core host, and the retried workflow task could fail the same way again (CI, e2e
   * 5,000-task owned run). Below the workflow task timeout (10 s), so a real hang still fails it.
   */
  public static final Duration DEADLOCK_DETECTION_TIMEOUT = Duration.ofSeconds(5);

  private DagRunWorker() {}

  /** Options of every worker that runs our workflows (tests' workers included, so they judge deadlocks alike). */
  public static WorkerOptions.Builder workflowWorkerOptions() {
    return WorkerOptions.newBuilder().setDefaultDeadlockDetectionTimeout(DEADLOCK_DETECTION_TIMEOUT.toMillis());
  }

  /** The factory's worker on the base task queue: the one {@link #register} made, or a new one. */
  public static Worker baseWorker(WorkerFactory factory, String baseTaskQueue) {
    Worker worker = factory.tryGetWorker(baseTaskQueue);
    return worker != null ? worker : factory.newWorker(baseTaskQueue, workflowWorkerOptions().build());
  }

  /**
   * @param database Airflow's DB, for the Temporal-owned workflows' sync activities (which run as
   *     local activities on the base task queue's worker)
   * @param python the Python steps of the sync activities: params check, DagRun listeners
   * @param fernet Airflow's {@code [core] fernet_key}, for the trigger rows of tasks that start in the triggerer
   * @param taskQueuedTimeout Airflow's {@code [scheduler] task_queued_timeout}, for Temporal-owned tries
   * @param liveRunners this process's runners; workflows claim them back on {@link RunnerSettings#reattachQueue}
   * @param metrics where the activities record attempts, runner starts and DB steps
   */
  public static void register(WorkerFactory factory, String baseTaskQueue, List<String> airflowQueues,
      RunnerSettings runner, int maxConcurrentTasks, AirflowDatabase database,
      DagRunSyncActivitiesImpl.PythonSteps python, FernetKeys fernet,
      Duration taskQueuedTimeout, LiveRunners liveRunners, WorkerMetrics metrics) {
    WorkerOptions activityOptions = workflowWorkerOptions()
        .setMaxConcurrentActivityExecutionSize(maxConcurrentTasks)
        // A draining worker's attempts go on heartbeating until they finish (--shutdown-grace).
        .setAllowActivityHeartbeatDuringShutdown(true)
        .build();
    // Every worker runs workflow tasks (with their local DB activities). Only a host that serves
    // Airflow's default queue takes the base task queue's activities — default-queue tasks and
    // create_dag_run — so a host for queue "gpu" never picks up a task it was not meant to run.
    boolean servesDefaultQueue = airflowQueues.contains(DEFAULT_QUEUE);
    Worker workflowWorker = factory.newWorker(baseTaskQueue, WorkerOptions.newBuilder(activityOptions)
        .setLocalActivityWorkerOnly(!servesDefaultQueue)
        .build());
    workflowWorker.registerWorkflowImplementationTypes(WORKFLOW_OPTIONS, DagRunWorkflowImpl.class,
        ExecutorWorkloadWorkflowImpl.class, OwnedDagRunWorkflowImpl.class);
    workflowWorker.registerActivitiesImplementations(metrics.timedDatabaseActivities(DagRunSyncActivities.class,
        DatabaseFailures.classifying(new DagRunSyncActivitiesImpl(database, taskQueuedTimeout, python, fernet))));
    TaskActivitiesImpl activities = new TaskActivitiesImpl(runner, liveRunners, metrics);
    for (String queue : airflowQueues) {
      metrics.slots(queue, maxConcurrentTasks);
      String taskQueue = TaskQueues.forAirflowQueue(baseTaskQueue, DEFAULT_QUEUE.equals(queue) ? null : queue);
      Worker worker = taskQueue.equals(baseTaskQueue) ? workflowWorker : factory.newWorker(taskQueue, activityOptions);
      worker.registerActivitiesImplementations(activities);
    }
    // Reattaching watches runners this process already counts against its slots: never fewer slots than runners.
    factory.newWorker(runner.reattachQueue(), WorkerOptions.newBuilder(activityOptions)
            .setMaxConcurrentActivityExecutionSize(maxConcurrentTasks * airflowQueues.size())
            .build())
        .registerActivitiesImplementations(activities);
  }
}
