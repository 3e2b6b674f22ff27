package dev.airflowtemporal.workflows;

import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.DagRuns;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepActivities;
import dev.airflowtemporal.dbsync.WaitingTaskInstances;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepActivitiesImpl;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepSettings;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepWorkflow;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepWorkflowImpl;
import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;

/**
 * Temporal-owned runs that Airflow cleared (Clear in the UI, the REST API's clear endpoints), or whose
 * parked tries Airflow resumed: registers the sweep loop and its activity on the base task queue, and
 * starts or stops that loop.
 */
public final class ClearedRunsWorker {
  private ClearedRunsWorker() {}

  /** Registers on the base task queue's worker (after {@link DagRunWorker#register}, or alone). */
  public static void register(WorkerFactory factory, String baseTaskQueue, AirflowDatabase database,
                              WorkerMetrics metrics) {
    Worker worker = DagRunWorker.baseWorker(factory, baseTaskQueue);
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, ClearedRunsSweepWorkflowImpl.class);
    worker.registerActivitiesImplementations(metrics.timedDatabaseActivities(ClearedRunsSweepActivities.class,
        new ClearedRunsSweepActivitiesImpl(new DagRuns(database), new WaitingTaskInstances(database),
            factory.getWorkflowClient(), baseTaskQueue, metrics)));
  }

  /**
   * Starts the sweep loop ({@link ClearedRunsSweepWorkflow#WORKFLOW_ID}) unless it is running; a running
   * loop is handed these settings instead, so the last worker started decides them.
   *
   * @return the loop's execution (the one already running, if any)
   */
  public static WorkflowExecution startSweep(WorkflowClient client, String baseTaskQueue,
                                             ClearedRunsSweepSettings settings) {
    ClearedRunsSweepWorkflow loop = client.newWorkflowStub(ClearedRunsSweepWorkflow.class,
        WorkflowOptions.newBuilder()
            .setWorkflowId(ClearedRunsSweepWorkflow.WORKFLOW_ID)
            .setTaskQueue(baseTaskQueue)
            .build());
    BatchRequest request = client.newSignalWithStartRequest();
    request.add(loop::run, settings);
    request.add(loop::configure, settings);
    return client.signalWithStart(request);
  }

  /** Stops a running sweep loop (a worker started with the sweep off). @return whether one was running */
  public static boolean stopSweep(WorkflowClient client) {
    try {
      client.newWorkflowStub(ClearedRunsSweepWorkflow.class, ClearedRunsSweepWorkflow.WORKFLOW_ID).stop();
      return true;
    } catch (WorkflowNotFoundException e) {
      return false;
    }
  }
}
