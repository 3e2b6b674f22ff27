package dev.airflowtemporal.workflows;

import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.ScheduledDags;
import dev.airflowtemporal.workflows.schedule.ScheduleSyncActivitiesImpl;
import dev.airflowtemporal.workflows.schedule.ScheduleSyncSettings;
import dev.airflowtemporal.workflows.schedule.ScheduleSyncWorkflow;
import dev.airflowtemporal.workflows.schedule.ScheduleSyncWorkflowImpl;
import dev.airflowtemporal.workflows.schedule.ScheduledDagRunWorkflowImpl;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;

/**
 * Temporal Schedules that mirror the timetables of opted-in DAGs: registers the firing workflow and
 * the sync loop on the base task queue, and starts that loop.
 */
public final class ScheduleWorker {
  private ScheduleWorker() {}

  /**
   * Registers on the base task queue's worker (after {@link DagRunWorker#register}, or alone). The
   * firing workflow is registered even where the sync is off, so the schedules that exist keep
   * working whichever worker polls.
   */
  public static void register(WorkerFactory factory, String baseTaskQueue, AirflowDatabase database) {
    Worker worker = DagRunWorker.baseWorker(factory, baseTaskQueue);
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS,
        ScheduledDagRunWorkflowImpl.class, ScheduleSyncWorkflowImpl.class);
    WorkflowClient client = factory.getWorkflowClient();
    ScheduleClient schedules = ScheduleClient.newInstance(client.getWorkflowServiceStubs(),
        ScheduleClientOptions.newBuilder()
            .setNamespace(client.getOptions().getNamespace())
            .setDataConverter(client.getOptions().getDataConverter())
            .build());
    worker.registerActivitiesImplementations(
        new ScheduleSyncActivitiesImpl(new ScheduledDags(database), schedules, baseTaskQueue));
  }

  /**
   * Starts the sync loop ({@link ScheduleSyncWorkflow#WORKFLOW_ID}) unless it is running; a running
   * loop is handed these settings instead, so the last worker started with schedules on decides them.
   *
   * @return the loop's execution (the one already running, if any)
   */
  public static WorkflowExecution startSync(WorkflowClient client, String baseTaskQueue, ScheduleSyncSettings settings) {
    ScheduleSyncWorkflow loop = client.newWorkflowStub(ScheduleSyncWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(ScheduleSyncWorkflow.WORKFLOW_ID)
        .setTaskQueue(baseTaskQueue)
        .build());
    BatchRequest request = client.newSignalWithStartRequest();
    request.add(loop::run, settings);
    request.add(loop::configure, settings);
    return client.signalWithStart(request);
  }
}
