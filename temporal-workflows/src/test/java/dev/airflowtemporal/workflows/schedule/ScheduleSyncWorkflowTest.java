package dev.airflowtemporal.workflows.schedule;

import dev.airflowtemporal.workflows.WireTestEnvironment;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.ScheduleWorker;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sync loop with its activity stubbed: cadence, reconfiguration, failures, continue-as-new. */
class ScheduleSyncWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final ScheduleSyncSettings SETTINGS =
      new ScheduleSyncSettings("temporal", List.of("etl"), Duration.ofSeconds(30));

  private final List<ScheduleSyncSettings> syncs = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresToThrow = new AtomicInteger();
  private TestWorkflowEnvironment env;
  private WorkflowClient client;

  @BeforeEach
  void setUp() {
    env = WireTestEnvironment.newInstance();
    Worker worker = env.newWorker(TASK_QUEUE);
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, ScheduleSyncWorkflowImpl.class);
    worker.registerActivitiesImplementations((ScheduleSyncActivities) settings -> {
      syncs.add(settings);
      if (failuresToThrow.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw ApplicationFailure.newFailure("Airflow's DB is down", "DatabaseUnavailable");
      }
      return new ScheduleSyncSummary(1, 0, syncs.size() == 1 ? 1 : 0, 0, 0, 0, 0, syncs.size() == 1 ? 0 : 1, 0);
    });
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  @Test
  void itSyncsAtOnceAndThenEveryInterval() {
    ScheduleWorker.startSync(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(95));
    assertThat(syncs).hasSize(4).containsOnly(SETTINGS);
    ScheduleSyncSummary last = loop().lastSummary();
    assertThat(last.unchanged()).isEqualTo(1);
  }

  @Test
  void startingItAgainHandsTheRunningLoopNewSettingsWhichApplyAtOnce() {
    WorkflowExecution started = ScheduleWorker.startSync(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(5));
    ScheduleSyncSettings other = new ScheduleSyncSettings("scheduled", List.of(), Duration.ofSeconds(60));
    assertThat(ScheduleWorker.startSync(client, TASK_QUEUE, other)).as("the same loop").isEqualTo(started);
    env.sleep(Duration.ofSeconds(5));
    assertThat(syncs).containsExactly(SETTINGS, other);
    env.sleep(Duration.ofSeconds(60));
    assertThat(syncs).containsExactly(SETTINGS, other, other);
  }

  @Test
  void aFailedSyncIsDoneAgainAtTheNextInterval() {
    failuresToThrow.set(2);
    ScheduleWorker.startSync(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(65));
    assertThat(syncs).hasSize(3);
    assertThat(loop().lastSummary()).isNotNull();
  }

  @Test
  void itContinuesAsNewAfterABoundedNumberOfSyncs() throws Exception {
    WorkflowExecution started = ScheduleWorker.startSync(client, TASK_QUEUE,
        new ScheduleSyncSettings("temporal", List.of(), Duration.ofSeconds(1)));
    env.sleep(Duration.ofSeconds(ScheduleSyncWorkflowImpl.SYNCS_PER_RUN + 5));
    WorkflowExecutionHistory firstRun = client.fetchHistory(started.getWorkflowId(), started.getRunId());
    assertThat(firstRun.getLastEvent().getEventType()).isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    assertThat(syncs.size()).isGreaterThan(ScheduleSyncWorkflowImpl.SYNCS_PER_RUN);
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(firstRun, replayEnv, ScheduleSyncWorkflowImpl.class);
    }
  }

  private ScheduleSyncWorkflow loop() {
    return client.newWorkflowStub(ScheduleSyncWorkflow.class, ScheduleSyncWorkflow.WORKFLOW_ID);
  }

}
