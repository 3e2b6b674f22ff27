package dev.airflowtemporal.workflows.cleared;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.workflows.ClearedRunsWorker;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.WireTestEnvironment;
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

/** The sweep loop with its activity stubbed: cadence, reconfiguration, failures, stop, continue-as-new. */
class ClearedRunsSweepWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final ClearedRunsSweepSettings SETTINGS = new ClearedRunsSweepSettings(Duration.ofSeconds(10));

  private final List<ClearedRunsSweepSettings> sweeps = new CopyOnWriteArrayList<>();
  private final AtomicInteger failuresToThrow = new AtomicInteger();
  private TestWorkflowEnvironment env;
  private WorkflowClient client;

  @BeforeEach
  void setUp() {
    env = WireTestEnvironment.newInstance();
    Worker worker = env.newWorker(TASK_QUEUE);
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, ClearedRunsSweepWorkflowImpl.class);
    worker.registerActivitiesImplementations((ClearedRunsSweepActivities) settings -> {
      sweeps.add(settings);
      if (failuresToThrow.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw ApplicationFailure.newFailure("Airflow's DB is down", "DatabaseUnavailable");
      }
      return new ClearedRunsSweepSummary(1, 1, 0, 0, 0, 0);
    });
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  @Test
  void itSweepsAtOnceAndThenEveryInterval() {
    ClearedRunsWorker.startSweep(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(35));
    assertThat(sweeps).hasSize(4).containsOnly(SETTINGS);
    assertThat(loop().lastSummary()).isEqualTo(new ClearedRunsSweepSummary(1, 1, 0, 0, 0, 0));
  }

  @Test
  void startingItAgainHandsTheRunningLoopNewSettingsWhichApplyAtOnce() {
    WorkflowExecution started = ClearedRunsWorker.startSweep(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(5));
    ClearedRunsSweepSettings slower = new ClearedRunsSweepSettings(Duration.ofSeconds(60));
    assertThat(ClearedRunsWorker.startSweep(client, TASK_QUEUE, slower)).as("the same loop").isEqualTo(started);
    env.sleep(Duration.ofSeconds(5));
    assertThat(sweeps).containsExactly(SETTINGS, slower);
    env.sleep(Duration.ofSeconds(60));
    assertThat(sweeps).containsExactly(SETTINGS, slower, slower);
  }

  @Test
  void aFailedSweepIsDoneAgainAtTheNextInterval() {
    failuresToThrow.set(2);
    ClearedRunsWorker.startSweep(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(25));
    assertThat(sweeps).hasSize(3);
    assertThat(loop().lastSummary()).isNotNull();
  }

  @Test
  void aWorkerStartedWithTheSweepOffStopsTheRunningLoopAndOneStartedWithItOnStartsItAgain() {
    assertThat(ClearedRunsWorker.stopSweep(client)).as("no loop to stop yet").isFalse();
    WorkflowExecution first = ClearedRunsWorker.startSweep(client, TASK_QUEUE, SETTINGS);
    env.sleep(Duration.ofSeconds(5));

    assertThat(ClearedRunsWorker.stopSweep(client)).isTrue();
    env.sleep(Duration.ofSeconds(60));
    assertThat(sweeps).hasSize(1);
    client.newUntypedWorkflowStub(first.getWorkflowId(), java.util.Optional.of(first.getRunId()), java.util.Optional.empty())
        .getResult(Void.class);

    WorkflowExecution second = ClearedRunsWorker.startSweep(client, TASK_QUEUE, SETTINGS);
    assertThat(second.getRunId()).isNotEqualTo(first.getRunId());
    env.sleep(Duration.ofSeconds(5));
    assertThat(sweeps).hasSize(2);
  }

  @Test
  void itContinuesAsNewAfterABoundedNumberOfSweeps() throws Exception {
    WorkflowExecution started = ClearedRunsWorker.startSweep(client, TASK_QUEUE,
        new ClearedRunsSweepSettings(Duration.ofSeconds(1)));
    env.sleep(Duration.ofSeconds(ClearedRunsSweepWorkflowImpl.SWEEPS_PER_RUN + 5));
    WorkflowExecutionHistory firstRun = client.fetchHistory(started.getWorkflowId(), started.getRunId());
    assertThat(firstRun.getLastEvent().getEventType())
        .isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    assertThat(sweeps.size()).isGreaterThan(ClearedRunsSweepWorkflowImpl.SWEEPS_PER_RUN);
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(firstRun, replayEnv, ClearedRunsSweepWorkflowImpl.class);
    }
  }

  @Test
  void aRunningRunClearedWithinThreeIntervalsOrAMinuteIsRecent() {
    assertThat(new ClearedRunsSweepSettings(Duration.ofSeconds(10)).recentlyCleared()).isEqualTo(Duration.ofMinutes(1));
    assertThat(new ClearedRunsSweepSettings(Duration.ofSeconds(30)).recentlyCleared()).isEqualTo(Duration.ofSeconds(90));
  }

  private ClearedRunsSweepWorkflow loop() {
    return client.newWorkflowStub(ClearedRunsSweepWorkflow.class, ClearedRunsSweepWorkflow.WORKFLOW_ID);
  }
}
