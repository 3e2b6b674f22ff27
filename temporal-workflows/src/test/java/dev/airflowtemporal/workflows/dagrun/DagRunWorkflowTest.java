package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.workflows.WireTestEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.AttemptView;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.DagRunProgress;
import dev.airflowtemporal.core.wire.DagRunWorkflowInput;
import dev.airflowtemporal.core.wire.OutcomeState;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.core.wire.TaskCancellation;
import dev.airflowtemporal.core.wire.TaskOutcome;
import dev.airflowtemporal.core.wire.TaskSubmission;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttempt;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.activity.Activity;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.workflows.task.RunnerReattach;
import dev.airflowtemporal.workflows.task.RunnerWhereabouts;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The DagRun workflow in executor mode, with the task activity stubbed (Temporal's testing idiom). */
class DagRunWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final String DAG = "etl";
  private static final String RUN = "manual__2026-11-23T05:00:00+00:00";
  private static final String WORKFLOW_ID = WorkflowIds.forDagRun(DAG, RUN);
  private static final String LIVE_WORKER_PROCESS = TaskQueues.forWorkerProcess(TASK_QUEUE, "alive");
  private static final String DEAD_WORKER_PROCESS = TaskQueues.forWorkerProcess(TASK_QUEUE, "dead");

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private final Recorder activities = new Recorder();

  @BeforeEach
  void setUp() {
    env = WireTestEnvironment.newInstance();
    Worker worker = env.newWorker(TASK_QUEUE, DagRunWorker.workflowWorkerOptions().build());
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, DagRunWorkflowImpl.class);
    worker.registerActivitiesImplementations(new StubActivities(activities, "default"));
    env.newWorker(TASK_QUEUE + ":special").registerActivitiesImplementations(new StubActivities(activities, "special"));
    env.newWorker(LIVE_WORKER_PROCESS).registerActivitiesImplementations(new StubActivities(activities, "reattach"));
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  @Test
  void eachSubmittedAttemptRunsAsOneActivityAndReportsItsOutcome() {
    DagRunWorkflow run = startWith(submission("extract", 1, null));
    run.submitTask(submission("load", 1, null));
    DagRunProgress progress = awaitOutcomes(run, 2);
    assertThat(progress.outcomes()).extracting(TaskOutcome::attempt)
        .containsExactlyInAnyOrder(key("extract", 1), key("load", 1));
    assertThat(progress.outcomes()).allSatisfy(o -> assertThat(o.state()).isEqualTo(OutcomeState.SUCCESS));
    assertThat(progress.running()).isEmpty();
    assertThat(countEvents(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).isEqualTo(2);
  }

  @Test
  void aRunnerThatExitsNonZeroIsReportedFailedWithItsReason() {
    activities.results.put("boom", a -> new TaskAttemptResult(3, "the Airflow task runner exited with code 3", "Traceback"));
    DagRunWorkflow run = startWith(submission("boom", 1, null));
    TaskOutcome outcome = awaitOutcomes(run, 1).outcomes().get(0);
    assertThat(outcome.state()).isEqualTo(OutcomeState.FAILED);
    assertThat(outcome.exitCode()).isEqualTo(3);
    assertThat(outcome.reason()).contains("exited with code 3");
    assertThat(outcome.outputTail()).isEqualTo("Traceback");
  }

  @Test
  void viewListsEveryAttemptStartedWithItsStateTimesAndQueueAndTheOnesWaitingToStart() {
    activities.results.put("boom", a -> new TaskAttemptResult(3, "the Airflow task runner exited with code 3", ""));
    Recorder.Gate gate = activities.gate("sleepy");
    DagRunWorkflow run = startWith(submission("boom", 1, null));
    run.submitTask(submission("sleepy", 1, "special"));
    awaitCondition(() -> run.progress(0).outcomes().size() == 1 && run.progress(0).running().size() == 1);
    run.submitTask(submission("sleepy", 1, "special", "queued-again"));  // waits for the running queueing to end

    RunView view = run.view();
    assertThat(view.mode()).isEqualTo(RunView.EXECUTOR);
    assertThat(view.phase()).isEqualTo("running");
    assertThat(view.waits()).isEmpty();
    assertThat(view.attempts()).extracting(a -> a.taskId() + " " + a.tryNumber() + " " + a.state() + " " + a.queue())
        .containsExactly("boom 1 failed null", "sleepy 1 running special", "sleepy 1 waiting special");
    AttemptView failed = view.attempts().get(0);
    assertThat(failed.detail()).contains("exited with code 3");
    assertThat(failed.startedAt()).isNotNull();
    assertThat(failed.endedAt()).isAfterOrEqualTo(failed.startedAt());
    assertThat(view.attempts().get(1).endedAt()).isNull();
    assertThat(view.attempts().get(2).startedAt()).isNull();

    gate.open();
    awaitCondition(() -> run.progress(0).outcomes().size() == 3);
    assertThat(run.view().attempts()).extracting(AttemptView::state).containsExactly("failed", "finished", "finished");
    assertThat(run.view().phase()).isEqualTo("idle");
  }

  @Test
  void aRepeatedSubmissionOfTheSameAttemptDoesNotRunItTwice() {
    DagRunWorkflow run = startWith(submission("extract", 1, null));
    run.submitTask(submission("extract", 1, null));
    run.submitTask(submission("extract", 2, null));
    awaitOutcomes(run, 2);
    assertThat(activities.started).containsExactlyInAnyOrder(key("extract", 1), key("extract", 2));
  }

  @Test
  void anAttemptHandedOverAgainWithTheSameExternalIdStartsOnceAndItsOutcomeCarriesTheId() {
    Recorder.Gate gate = activities.gate("extract");
    DagRunWorkflow run = startWith(submission("extract", 1, null, "queued-1"));
    run.submitTask(submission("extract", 1, null, "queued-1")); // waiting or running: a repeat
    awaitCondition(() -> run.progress(0).running().contains(key("extract", 1)));
    run.submitTask(submission("extract", 1, null, "queued-1"));
    gate.open();
    TaskOutcome outcome = awaitOutcomes(run, 1).outcomes().get(0);
    run.submitTask(submission("extract", 1, null, "queued-1")); // ended, outcome not yet acknowledged
    assertThat(outcome.externalExecutorId()).isEqualTo("queued-1");
    assertThat(run.progress(0).outcomes()).hasSize(1);
    assertThat(activities.started).containsExactly(key("extract", 1));
    assertThat(countEvents(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).isEqualTo(1);
  }

  @Test
  void progressListsTheExternalIdsOfRunningAttemptsAndUnacknowledgedOutcomesWhateverTheCursor() {
    Recorder.Gate gate = activities.gate("sleepy");
    DagRunWorkflow run = startWith(submission("sleepy", 1, null, "queued-sleepy"));
    run.submitTask(submission("quick", 1, null, "queued-quick"));
    run.submitTask(submission("legacy", 1, null, null));
    DagRunProgress progress = awaitOutcomes(run, 2);
    assertThat(run.progress(progress.lastSeq()).externalExecutorIds())
        .containsExactlyInAnyOrder("queued-sleepy", "queued-quick");
    run.acknowledgeOutcomes(progress.lastSeq());
    assertThat(run.progress(0).externalExecutorIds()).containsExactly("queued-sleepy");
    gate.open();
    run.acknowledgeOutcomes(awaitOutcomes(run, 1).lastSeq());
    assertThat(run.progress(0).externalExecutorIds()).isEmpty();
  }

  @Test
  void aRevokedAttemptIsNoLongerListedAndRunsAgainUnderItsNewId() {
    Recorder.Gate gate = activities.gate("sleepy");
    DagRunWorkflow run = startWith(submission("sleepy", 1, null, "queued-first"));
    awaitCondition(() -> run.progress(0).running().contains(key("sleepy", 1)));
    run.cancelTask(new TaskCancellation(ContractVersion.CURRENT, key("sleepy", 1), "revoked"));
    awaitCondition(() -> run.progress(0).externalExecutorIds().isEmpty());
    run.submitTask(submission("sleepy", 1, null, "queued-again"));
    awaitCondition(() -> run.progress(0).externalExecutorIds().equals(List.of("queued-again")));
    awaitCondition(() -> activities.started.size() == 2);
    gate.open();
    assertThat(awaitOutcomes(run, 1).outcomes()).singleElement()
        .satisfies(o -> assertThat(o.externalExecutorId()).isEqualTo("queued-again"));
  }

  @Test
  void aRescheduleSensorsNextPokeAtTheSameTryRunsWhileThePreviousOutcomeIsUnacknowledged() throws Exception {
    DagRunWorkflow run = startWith(submission("sensor", 1, null, "poke-1"));
    awaitOutcomes(run, 1);
    run.submitTask(submission("sensor", 1, null, "poke-2")); // poke 1's outcome is not acknowledged yet
    run.submitTask(submission("sensor", 1, null, "poke-2")); // the same signal delivered again
    awaitOutcomes(run, 2);
    run.submitTask(submission("sensor", 1, null, "poke-3"));
    DagRunProgress progress = awaitOutcomes(run, 3);
    assertThat(progress.outcomes()).extracting(TaskOutcome::externalExecutorId)
        .containsExactly("poke-1", "poke-2", "poke-3");
    assertThat(activities.started).containsExactly(key("sensor", 1), key("sensor", 1), key("sensor", 1));
    run.submitTask(submission("sensor", 1, null, "poke-3")); // ended, unacknowledged: still a repeat
    run.acknowledgeOutcomes(progress.lastSeq());
    WorkflowStub.fromTyped(run).getResult(Void.class);
    assertThat(activities.started).hasSize(3);
    assertThat(countEvents(EventType.EVENT_TYPE_MARKER_RECORDED)).isEqualTo(1); // the queueing-identity version
    replayHistory();
  }

  @Test
  void aNewQueueingOfATryWhoseRunnerStillRunsStartsOnceThatOneHasEnded() throws Exception {
    // A reschedule sensor's runner still exiting, or one a lost revoke did not stop.
    Recorder.Gate gate = activities.gate("sensor");
    DagRunWorkflow run = startWith(submission("sensor", 1, null, "poke-1"));
    awaitCondition(() -> run.progress(0).running().contains(key("sensor", 1)));
    run.submitTask(submission("sensor", 1, null, "poke-2"));
    awaitCondition(() -> run.progress(0).externalExecutorIds().containsAll(List.of("poke-1", "poke-2")));
    assertThat(activities.started).hasSize(1);
    gate.open();
    DagRunProgress progress = awaitOutcomes(run, 2);
    assertThat(progress.outcomes()).extracting(TaskOutcome::externalExecutorId).containsExactly("poke-1", "poke-2");
    assertThat(activities.started).hasSize(2);
    replayHistory();
  }

  @Test
  void aRevokedPokeIsCancelledAndItsRequeueingRunsUnderItsNewId() {
    DagRunWorkflow run = startWith(submission("sensor", 1, null, "poke-1"));
    awaitOutcomes(run, 1);
    Recorder.Gate second = activities.gate("sensor");
    run.submitTask(submission("sensor", 1, null, "poke-2"));
    awaitCondition(() -> run.progress(0).running().contains(key("sensor", 1)));
    run.cancelTask(new TaskCancellation(ContractVersion.CURRENT, key("sensor", 1), "revoked"));
    awaitCondition(() -> run.progress(0).externalExecutorIds().equals(List.of("poke-1")));
    run.submitTask(submission("sensor", 1, null, "poke-2-requeued"));
    awaitCondition(() -> activities.started.size() == 3);
    second.open();
    DagRunProgress progress = awaitOutcomes(run, 2);
    assertThat(progress.outcomes()).extracting(TaskOutcome::externalExecutorId)
        .containsExactly("poke-1", "poke-2-requeued");
    assertThat(countEvents(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)).isEqualTo(1);
  }

  @Test
  void aTaskOnANonDefaultQueueRunsOnThatQueuesTaskQueue() {
    DagRunWorkflow run = startWith(submission("pinned", 1, "special"));
    awaitOutcomes(run, 1);
    assertThat(activities.queueOf).containsEntry(key("pinned", 1), "special");
    HistoryEvent scheduled = events(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).get(0);
    assertThat(scheduled.getActivityTaskScheduledEventAttributes().getTaskQueue().getName())
        .isEqualTo("airflow:special");
  }

  @Test
  void aRevokedAttemptIsCancelledWithoutAnOutcomeAndRunsAgainWhenHandedBack() {
    Recorder.Gate gate = activities.gate("sleepy");
    DagRunWorkflow run = startWith(submission("sleepy", 1, null));
    awaitCondition(() -> run.progress(0).running().contains(key("sleepy", 1)));
    run.cancelTask(new TaskCancellation(ContractVersion.CURRENT, key("sleepy", 1), "revoked"));
    // Airflow requeues a task revoked for being stuck in queued with the same try number.
    run.submitTask(submission("sleepy", 1, null));
    awaitCondition(() -> activities.started.size() == 2);
    gate.open();
    DagRunProgress progress = awaitOutcomes(run, 1);
    assertThat(progress.outcomes()).singleElement().satisfies(o -> {
      assertThat(o.attempt()).isEqualTo(key("sleepy", 1));
      assertThat(o.state()).isEqualTo(OutcomeState.SUCCESS);
    });
    assertThat(countEvents(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED)).isEqualTo(1);
  }

  @Test
  void acknowledgedOutcomesAreDroppedAndTheWorkflowClosesAfterTheIdleTimeout() {
    DagRunWorkflow run = startWith(submission("extract", 1, null));
    DagRunProgress progress = awaitOutcomes(run, 1);
    env.sleep(Duration.ofSeconds(120)); // longer than the idle timeout: unacknowledged, it must stay open
    assertThat(run.progress(0).outcomes()).hasSize(1);
    run.acknowledgeOutcomes(progress.lastSeq());
    assertThat(run.progress(0).outcomes()).isEmpty();
    WorkflowStub.fromTyped(run).getResult(Void.class); // completes once idle with everything acknowledged
  }

  @Test
  void aClearedTaskStartsTheClosedWorkflowAgainWithSignalWithStart() {
    DagRunWorkflow run = startWith(submission("extract", 1, null));
    run.acknowledgeOutcomes(awaitOutcomes(run, 1).lastSeq());
    WorkflowStub.fromTyped(run).getResult(Void.class);
    DagRunWorkflow again = startWith(submission("extract", 2, null));
    assertThat(awaitOutcomes(again, 1).outcomes().get(0).attempt()).isEqualTo(key("extract", 2));
  }

  @Test
  void anInvalidSubmissionIsReportedFailedWithEveryProblemNamed() {
    TaskSubmission bad = new TaskSubmission(ContractVersion.CURRENT, DAG, RUN, key("extract", 1), "id", null, 1,
        OffsetDateTime.now(), JsonNodeFactory.instance.objectNode().put("type", "RunTrigger"), "queued-bad");
    DagRunWorkflow run = startWith(bad);
    TaskOutcome outcome = awaitOutcomes(run, 1).outcomes().get(0);
    assertThat(outcome.state()).isEqualTo(OutcomeState.FAILED);
    assertThat(outcome.reason()).contains("rejected by the worker").contains("workload.type must be 'ExecuteTask'");
    assertThat(outcome.externalExecutorId()).isEqualTo("queued-bad");
    assertThat(activities.started).isEmpty();
  }

  @Test
  void aMalformedWorkflowInputFailsTheWorkflowInsteadOfRetryingForever() {
    WorkflowStub stub = client.newUntypedWorkflowStub(DagRunWorkflow.TYPE, options());
    stub.start(Map.of("contract_version", "not-a-number", "dag_id", DAG));
    assertThatThrownBy(() -> stub.getResult(Void.class)).isInstanceOf(WorkflowFailedException.class);
  }

  @Test
  void anIncompatibleContractVersionFailsTheWorkflowWithTheFix() {
    DagRunWorkflow run = client.newWorkflowStub(DagRunWorkflow.class, options());
    WorkflowClient.start(run::run, new DagRunWorkflowInput(99, DAG, RUN, null, null, List.of(), List.of(), 0L));
    assertThatThrownBy(() -> WorkflowStub.fromTyped(run).getResult(Void.class))
        .isInstanceOf(WorkflowFailedException.class)
        .rootCause().hasMessageContaining("contract_version 99 is not supported");
  }

  @Test
  void aLongRunContinuesAsNewWithoutLosingSubmissionsOrOutcomes() {
    Recorder.Gate gate = activities.gate("first");
    DagRunWorkflow run = startWith(submission("first", 1, null), 12L);
    String firstRunId = WorkflowStub.fromTyped(run).getExecution().getRunId();
    awaitCondition(() -> run.progress(0).running().contains(key("first", 1)));
    for (int i = 0; i < 6; i++) {
      run.submitTask(submission("later_" + i, 1, null));
    }
    gate.open(); // the run is past 12 events: it lets `first` finish, then continues as new
    DagRunProgress progress = awaitOutcomes(run, 7);
    assertThat(progress.outcomes()).extracting(o -> o.attempt().taskId())
        .containsExactlyInAnyOrder("first", "later_0", "later_1", "later_2", "later_3", "later_4", "later_5");
    assertThat(progress.outcomes()).extracting(TaskOutcome::seq).doesNotHaveDuplicates();
    // The outcomes are queryable a moment before the workflow task that continues as new completes.
    awaitCondition(() -> {
      List<HistoryEvent> firstRun = client.fetchHistory(WORKFLOW_ID, firstRunId).getEvents();
      return firstRun.get(firstRun.size() - 1).getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW;
    });
  }

  @Test
  void anAttemptWhoseActivityTimedOutOnItsHeartbeatIsClaimedBackFromItsLiveWorkerProcess() throws Exception {
    Recorder.Gate silence = activities.fallSilent("outlived", LIVE_WORKER_PROCESS);
    DagRunWorkflow run = startWith(submission("outlived", 1, null));
    awaitCondition(() -> silence.heartbeated);
    env.sleep(Duration.ofSeconds(45)); // past the 30 s heartbeat timeout: Temporal times the execution out
    TaskOutcome outcome = awaitOutcomes(run, 1).outcomes().get(0);
    silence.open();
    assertThat(outcome.state()).isEqualTo(OutcomeState.SUCCESS);
    assertThat(activities.reattached).containsExactly("runner-of-outlived");
    assertThat(activities.started).containsExactly(key("outlived", 1)); // never started a second runner
    assertThat(events(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).extracting(
        e -> e.getActivityTaskScheduledEventAttributes().getTaskQueue().getName())
        .containsExactly(TASK_QUEUE, LIVE_WORKER_PROCESS);
    replayHistory();
  }

  @Test
  void anAttemptWhoseWorkerProcessIsGoneIsReportedLostOnceItsQueueGoesUnanswered() throws Exception {
    Recorder.Gate silence = activities.fallSilent("orphaned", DEAD_WORKER_PROCESS);
    DagRunWorkflow run = startWith(submission("orphaned", 1, null));
    awaitCondition(() -> silence.heartbeated);
    env.sleep(Duration.ofSeconds(45));
    awaitCondition(() -> countEvents(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 2);
    env.sleep(RunnerReattach.PICKUP_TIMEOUT.plusSeconds(5));
    TaskOutcome outcome = awaitOutcomes(run, 1).outcomes().get(0);
    silence.open();
    assertThat(outcome.state()).isEqualTo(OutcomeState.FAILED);
    assertThat(outcome.reason()).contains("worker lost").contains("did not answer");
    assertThat(activities.reattached).isEmpty();
    replayHistory();
  }

  @Test
  void historiesOfTheseRunsReplayDeterministically() throws Exception {
    DagRunWorkflow run = startWith(submission("extract", 1, null));
    run.submitTask(submission("load", 1, "special"));
    run.acknowledgeOutcomes(awaitOutcomes(run, 2).lastSeq());
    WorkflowStub.fromTyped(run).getResult(Void.class);
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(client.fetchHistory(WORKFLOW_ID), replayEnv, DagRunWorkflowImpl.class);
    }
  }

  // -- helpers --

  private void replayHistory() throws Exception {
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(client.fetchHistory(WORKFLOW_ID), replayEnv, DagRunWorkflowImpl.class);
    }
  }


  private DagRunWorkflow startWith(TaskSubmission first) {
    return startWith(first, null);
  }

  private DagRunWorkflow startWith(TaskSubmission first, Long continueAsNewAfterEvents) {
    DagRunWorkflow run = client.newWorkflowStub(DagRunWorkflow.class, options());
    DagRunWorkflowInput input = new DagRunWorkflowInput(ContractVersion.CURRENT, DAG, RUN, 60L,
        continueAsNewAfterEvents, List.of(), List.of(), 0L);
    BatchRequest request = client.newSignalWithStartRequest();
    request.add(run::run, input);
    request.add(run::submitTask, first);
    client.signalWithStart(request);
    return run;
  }

  private static WorkflowOptions options() {
    return WorkflowOptions.newBuilder().setWorkflowId(WORKFLOW_ID).setTaskQueue(TASK_QUEUE).build();
  }

  private DagRunProgress awaitOutcomes(DagRunWorkflow run, int count) {
    awaitCondition(() -> run.progress(0).outcomes().size() >= count);
    return run.progress(0);
  }

  private void awaitCondition(BooleanSupplier condition) {
    for (int i = 0; i < 600; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      sleep(50);
    }
    throw new AssertionError("condition not met within 30 s");
  }

  private List<HistoryEvent> events(EventType type) {
    return client.fetchHistory(WORKFLOW_ID).getEvents().stream().filter(e -> e.getEventType() == type).toList();
  }

  private long countEvents(EventType type) {
    return events(type).size();
  }

  private static TaskSubmission submission(String taskId, int tryNumber, String queue) {
    return submission(taskId, tryNumber, queue, null);
  }

  /** As Airflow's scheduler queues it: {@code externalExecutorId} is the id committed with the QUEUED state. */
  private static TaskSubmission submission(String taskId, int tryNumber, String queue, String externalExecutorId) {
    JsonNode workload = JsonNodeFactory.instance.objectNode().put("type", "ExecuteTask").put("log_path", "x.log");
    return new TaskSubmission(ContractVersion.CURRENT, DAG, RUN, key(taskId, tryNumber), "ti-" + taskId, queue, 1,
        OffsetDateTime.now(), workload, externalExecutorId);
  }

  private static AttemptKey key(String taskId, int tryNumber) {
    return new AttemptKey(taskId, -1, tryNumber);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    }
  }

  /** Records which attempts ran on which queue; results per task id, success by default. */
  static final class Recorder {
    final List<AttemptKey> started = new CopyOnWriteArrayList<>();
    final Map<AttemptKey, String> queueOf = new ConcurrentHashMap<>();
    final Map<String, Function<TaskAttempt, TaskAttemptResult>> results = new ConcurrentHashMap<>();
    final List<String> reattached = new CopyOnWriteArrayList<>();

    /** Makes attempts of a task heartbeat (like the real activity) until cancelled or until the gate opens. */
    Gate gate(String taskId) {
      Gate gate = new Gate();
      results.put(taskId, a -> {
        while (!gate.open) {
          Activity.getExecutionContext().heartbeat(null);
          sleep(50);
        }
        return new TaskAttemptResult(0, null, "");
      });
      return gate;
    }

    /**
     * Makes the first attempt of a task heartbeat its runner's whereabouts once and then fall silent
     * (Temporal out of reach) until the gate opens; the runner "lives" in worker process {@code processQueue}.
     */
    Gate fallSilent(String taskId, String processQueue) {
      Gate gate = new Gate();
      results.put(taskId, a -> {
        Activity.getExecutionContext().heartbeat(
            new RunnerWhereabouts(processQueue, "runner-of-" + taskId, 4242, "worker-host", null));
        gate.heartbeated = true;
        while (!gate.open) {
          sleep(50);
        }
        return new TaskAttemptResult(0, null, "");
      });
      return gate;
    }

    static final class Gate {
      volatile boolean open;
      volatile boolean heartbeated;

      void open() {
        open = true;
      }
    }
  }

  /** The activity stub registered on one queue's task queue. */
  record StubActivities(Recorder recorder, String queue) implements TaskActivities {
    @Override
    public TaskAttemptResult runTask(TaskAttempt attempt) {
      recorder.started.add(attempt.attempt());
      recorder.queueOf.put(attempt.attempt(), queue);
      return recorder.results.getOrDefault(attempt.attempt().taskId(), a -> new TaskAttemptResult(0, null, ""))
          .apply(attempt);
    }

    @Override
    public TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload) {
      throw new UnsupportedOperationException("owned runs are not used in executor mode");
    }

    /** The worker process still watches the runner: it ran to success meanwhile. */
    @Override
    public TaskAttemptResult reattachTask(RunnerWhereabouts whereabouts) {
      recorder.reattached.add(whereabouts.runnerId());
      return new TaskAttemptResult(0, null, "");
    }
  }
}
