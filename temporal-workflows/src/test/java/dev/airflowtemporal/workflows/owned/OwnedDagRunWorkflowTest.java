package dev.airflowtemporal.workflows.owned;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.airflowtemporal.core.RunIds;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.dag.ExpandInput;
import dev.airflowtemporal.core.dag.MappedTaskGroup;
import dev.airflowtemporal.core.dag.PackedPlan;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.SettledAttempt;
import dev.airflowtemporal.core.dag.StartTrigger;
import dev.airflowtemporal.core.dag.TaskInstanceMark;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskInstanceSnapshot;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.dag.TaskState;
import dev.airflowtemporal.core.dag.Timetable;
import dev.airflowtemporal.core.dag.TriggerRule;
import dev.airflowtemporal.core.wire.AttemptView;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.core.wire.RunView;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.WireTestEnvironment;
import dev.airflowtemporal.workflows.task.RunnerWhereabouts;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttempt;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.hibernate.exception.JDBCConnectionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Temporal-owned DagRun workflow with its activities replaced by an in-memory Airflow DB and a
 * scripted task runner (Temporal's testing idiom; the real activities are tested against the real
 * DB and runner elsewhere).
 */
class OwnedDagRunWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final String DAG = "etl";
  private static final OffsetDateTime RUN_AFTER = OffsetDateTime.parse("2026-11-23T08:00:00Z");
  private static final String RUN = RunIds.external(RUN_AFTER);

  private TestWorkflowEnvironment env;
  private String firstRunId;
  private final FakeAirflow airflow = new FakeAirflow();

  @AfterEach
  void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  void chainRunsEachTaskOnceInOrderAndTheRunSucceeds() {
    start(plan(16, task("extract"), task("transform", "extract"), task("load", "transform")));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("extract try 1", "transform try 1", "load try 1");
    assertThat(airflow.finishedAs).containsExactly("success");
  }

  @Test
  void failedTryWithRetriesLeftRunsAgainAfterAirflowsRetryDelay() {
    TaskPlan flaky = withRetries(task("flaky"), 2, Duration.ofMinutes(5));
    airflow.script("flaky", TaskState.UP_FOR_RETRY, TaskState.SUCCESS);
    start(plan(16, flaky));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("flaky try 1", "flaky try 2");
    Duration waited = Duration.between(airflow.startedAt.get(0), airflow.startedAt.get(1));
    assertThat(waited).isGreaterThanOrEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void failedTaskMarksItsDownstreamUpstreamFailedAndFailsTheRun() {
    airflow.script("extract", TaskState.FAILED);
    start(plan(16, task("extract"), task("load", "extract"), withRule(task("cleanup", "extract"), TriggerRule.ALL_DONE)));
    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.marks).containsEntry("load", "upstream_failed");
    assertThat(airflow.started).containsExactly("extract try 1", "cleanup try 1");
    assertThat(airflow.finishedAs).containsExactly("failed");
  }

  @Test
  void tasksABranchSkippedThroughAirflowNeverRun() {
    airflow.skipsOnSuccess("branch", "left");
    start(plan(16, task("branch"), task("left", "branch"), task("right", "branch"),
        withRule(task("join", "left", "right"), TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("branch try 1", "right try 1", "join try 1");
  }

  @Test
  void taskWaitsWhileItsPoolIsFullAcrossRuns() {
    airflow.poolFullFor("load", 3);
    start(plan(16, task("load")));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.queueRequests.get()).isEqualTo(4);
    assertThat(airflow.started).containsExactly("load try 1");
  }

  @Test
  void neverRunsMoreThanMaxActiveTasksAtOnce() {
    List<TaskPlan> tasks = new ArrayList<>();
    tasks.add(task("start"));
    for (int i = 0; i < 6; i++) {
      tasks.add(task("leaf_" + i, "start"));
    }
    airflow.runDuration = Duration.ofMillis(200);
    start(plan(2, tasks.toArray(TaskPlan[]::new)));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).hasSize(7);
    assertThat(airflow.maxConcurrent.get()).isEqualTo(2);
  }

  @Test
  void aMappedTaskExpandsOnceItsUpstreamIsDoneAndItsDownstreamWaitsForEveryInstance() {
    airflow.mapLengths.put("double", 3);
    start(plan(16, task("numbers"), mappedOver(task("double", "numbers"), "numbers"), task("total", "double")));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.expanded).containsExactly("double");
    assertThat(airflow.started.subList(0, 1)).containsExactly("numbers try 1");
    assertThat(airflow.started.subList(1, 4)).containsExactlyInAnyOrder("double[0] try 1", "double[1] try 1", "double[2] try 1");
    assertThat(airflow.started.get(4)).isEqualTo("total try 1");
  }

  @Test
  void aMappedTaskOverAnEmptyListIsSkippedAndSoIsItsAllSuccessDownstream() {
    airflow.mapLengths.put("double", 0);
    start(plan(16, task("numbers"), mappedOver(task("double", "numbers"), "numbers"), task("total", "double")));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("numbers try 1");
    assertThat(airflow.marks).containsEntry("total", "skipped");
  }

  @Test
  void aMappedTaskWhoseUpstreamRecordedNoLengthIsUpstreamFailed() {
    start(plan(16, task("numbers"), mappedOver(task("double", "numbers"), "numbers")));
    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.marks).containsEntry("double", "upstream_failed");
  }

  @Test
  void eachInstanceOfAMappedTaskGroupFollowsItsOwnUpstreamInstanceAndADownstreamReducesThemAll() {
    airflow.mapLengths.put("group.first", 3);
    airflow.mapLengths.put("group.second", 3);
    airflow.script("group.first[1]", TaskState.FAILED);
    start(plan(16, task("make"), inMappedGroup(task("group.first", "make"), "group", "make"),
        inMappedGroup(task("group.second", "group.first", "make"), "group", "make"),
        withRule(task("reduce", "group.second"), TriggerRule.ALL_DONE)));
    assertThat(result()).as("reduce, the only leaf, succeeded").isEqualTo("success");
    assertThat(airflow.expanded).containsExactly("group.first", "group.second");
    assertThat(airflow.started).contains("group.second[0] try 1", "group.second[2] try 1", "reduce try 1")
        .doesNotContain("group.second[1] try 1");
    assertThat(airflow.marks).containsEntry("group.second[1]", "upstream_failed");
  }

  @Test
  void plainEmptyOperatorsAreMarkedSuccessWithoutARunner() {
    start(plan(16, empty(task("begin")), task("work", "begin"), empty(task("end", "work"))));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("work try 1");
    assertThat(airflow.marks).containsEntry("begin", "success").containsEntry("end", "success");
  }

  @Test
  void aRunnerThatDiedLeavesTheTryToBeSettledAsAFailure() {
    airflow.runnerDies("extract");
    start(plan(16, withRetries(task("extract"), 1, Duration.ofSeconds(10))));
    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.settledRetryable).containsExactly(true, false);
    assertThat(airflow.started).containsExactly("extract try 1", "extract try 2");
  }

  @Test
  void aStepThatFailsForGoodEndsTheRunFailedInsteadOfRetryingForever() {
    airflow.settleBreaksFor = "extract";
    start(plan(16, task("extract"), task("load", "extract")));
    assertThatThrownBy(this::result).isInstanceOf(WorkflowFailedException.class)
        .rootCause().hasMessageContaining("TaskInstance state 'bogus'");
    assertThat(airflow.failedWith).isNotEmpty().allSatisfy(reason -> assertThat(reason)
        .contains("step settle_attempt failed", "java.lang.IllegalStateException", "TaskInstance state 'bogus'"));
    assertThat(airflow.runState()).isEqualTo("failed");
    assertThat(airflow.tiSummary()).containsEntry("load", "skipped 0");
    assertThat(airflow.started).containsExactly("extract try 1");
  }

  @Test
  void aNullMetInWorkflowCodeFailsTheDagRunAndItsUnfinishedTasksBeforeTheWorkflowFails() throws Exception {
    airflow.settleAnswersNullFor = "extract";
    start(plan(16, task("extract"), task("load", "extract"), task("other")));
    assertThatThrownBy(this::result).isInstanceOf(WorkflowFailedException.class)
        .rootCause().isInstanceOf(ApplicationFailure.class)
        .satisfies(e -> assertThat(((ApplicationFailure) e).getType()).isEqualTo(NullPointerException.class.getName()));
    // (At least once: a local activity runs again when its workflow task is retried, as when the workflow's
    // end races a try's.)
    assertThat(airflow.failedWith).isNotEmpty()
        .allSatisfy(reason -> assertThat(reason).contains("java.lang.NullPointerException", "SettledAttempt.state()"));
    assertThat(airflow.runState()).as("not left running with no one to drive it").isEqualTo("failed");
    assertThat(airflow.tiSummary()).containsEntry("load", "skipped 0");
    assertThat(airflow.finishedAs).isEmpty();
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(env.getWorkflowClient().fetchHistory(workflowId()), replayEnv,
          OwnedDagRunWorkflowImpl.class);
    }
  }

  @Test
  void aCancelledWorkflowFailsItsDagRunAndEndsCancelled() {
    CountDownLatch hold = new CountDownLatch(1);
    airflow.holdRunner.put("extract", hold);
    start(plan(16, task("extract"), task("load", "extract")));
    awaitTrue(() -> airflow.started.contains("extract try 1"), "extract try 1 to start");

    env.getWorkflowClient().newUntypedWorkflowStub(workflowId()).cancel();
    hold.countDown();

    assertThatThrownBy(this::result).isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(io.temporal.failure.CanceledFailure.class);
    // (A local activity runs again when its workflow task must be retried, as after a cancel racing the try's end.)
    assertThat(airflow.failedWith).isNotEmpty().allSatisfy(reason -> assertThat(reason).contains("cancelled"));
    assertThat(airflow.runState()).isEqualTo("failed");
    assertThat(airflow.tiSummary()).containsEntry("load", "skipped 0");
  }

  @Test
  void aResumeRetriedAfterItsCommitFindsTheRunRunningAndDrivesItToTheEnd() {
    airflow.script("transform", TaskState.FAILED, TaskState.SUCCESS);
    start(plan(16, task("extract"), task("transform", "extract")));
    assertThat(result()).isEqualTo("failed");
    airflow.clear("transform");
    airflow.loseNextResumeAnswer = true;  // the commit went through, its answer did not

    startResume();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.resumptions).containsExactly("resume queued", "read back running");
    assertThat(airflow.started).containsExactly("extract try 1", "transform try 1", "transform try 2");
    assertThat(airflow.finishedAs).containsExactly("failed", "success");
  }

  @Test
  void aThirtyMinuteDatabaseOutageIsWaitedOutAddingABoundedNumberOfHistoryEvents() {
    airflow.outageAfter = "extract";
    airflow.outage = Duration.ofMinutes(30);
    start(plan(16, task("extract"), task("load", "extract")));

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("extract try 1", "load try 1");
    assertThat(airflow.unavailableAnswers.get()).as("the settle step met the outage throughout").isGreaterThan(20);
    WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId());
    long timers = history.getEvents().stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_TIMER_STARTED)
        .count();
    System.out.printf("a 30-minute DB outage: %d history events in all, %d retry timers%n",
        history.getEvents().size(), timers);
    // Retries past DB_LOCAL_RETRY_THRESHOLD are timers at most DB_RETRY_MAX_INTERVAL apart, each with a
    // marker and one workflow task: about 30 of them in 30 minutes, some 6 events each.
    assertThat(timers).isBetween(20L, 40L);
    assertThat(history.getEvents()).hasSizeLessThan(400);
  }

  @Test
  void aTryNoWorkerPicksUpWithinTaskQueuedTimeoutFailsAndIsRetriedByAirflowsRules() {
    // (Real seconds: the test server does not skip time for a task no worker polls.)
    airflow.taskQueuedTimeout = Duration.ofSeconds(2);
    start(plan(16, withRetries(onQueue(task("stuck"), "nowhere"), 1, Duration.ofMinutes(1)), task("after", "stuck")));

    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.started).as("no worker serves queue 'nowhere'").isEmpty();
    assertThat(airflow.settledRetryable).as("try 1 up_for_retry, try 2 failed").containsExactly(true, false);
    assertThat(airflow.tiSummary()).containsEntry("stuck", "failed 2").containsEntry("after", "upstream_failed 0");
    WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId());
    assertThat(history.getEvents()).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)
        .hasSize(2).allSatisfy(e -> assertThat(e.getActivityTaskTimedOutEventAttributes().getFailure().getTimeoutFailureInfo()
            .getTimeoutType()).isEqualTo(io.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START));
    assertThat(history.getEvents()).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            && e.getActivityTaskScheduledEventAttributes().getActivityType().getName().equals("run_owned_task"))
        .hasSize(2).allSatisfy(e -> {
          assertThat(e.getActivityTaskScheduledEventAttributes().getTaskQueue().getName()).isEqualTo("airflow:nowhere");
          assertThat(e.getActivityTaskScheduledEventAttributes().getScheduleToStartTimeout().getSeconds()).isEqualTo(2);
        });
  }

  @Test
  void rejectedRequestFailsTheWorkflowWithTheReasonAndCreatesNothing() {
    airflow.rejectWith = "DAG 'etl' is not in Airflow's DB";
    start(plan(16, task("extract")));
    assertThatThrownBy(this::result).isInstanceOf(WorkflowFailedException.class)
        .rootCause().isInstanceOf(ApplicationFailure.class)
        .hasMessageContaining("DAG 'etl' is not in Airflow's DB");
    assertThat(airflow.started).isEmpty();
  }

  @Test
  void invalidRequestIsRejectedBeforeTouchingTheDatabase() {
    env = environment(10_000);
    OwnedDagRunRequest bad = new OwnedDagRunRequest(ContractVersion.CURRENT, DAG, RUN,
        JsonNodeFactory.instance.arrayNode().add(1), RUN_AFTER, RUN_AFTER, "cli", null);
    WorkflowClient.start(stub()::run, bad, null);
    assertThatThrownBy(this::result).rootCause().hasMessageContaining("conf must be a JSON object");
    assertThat(airflow.created.get()).isZero();
  }

  @Test
  void longRunContinuesAsNewKeepingWhereEveryTaskStands() {
    List<TaskPlan> chain = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      chain.add(i == 0 ? task("t0") : task("t" + i, "t" + (i - 1)));
    }
    env = environment(40);
    airflow.plan = plan(16, chain.toArray(TaskPlan[]::new));
    WorkflowClient.start(stub()::run, request(), null);
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).hasSize(12).doesNotHaveDuplicates();
    assertThat(airflow.plansLoaded.get()).isPositive();
  }

  @Test
  void aFiveThousandTaskDagCompletesEveryRunOfItsWorkflowFarBelowTemporalsHistoryLimit() {
    List<TaskPlan> chain = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      chain.add(i == 0 ? task("t0") : task("t" + i, "t" + (i - 1)));
    }
    airflow.runDuration = Duration.ZERO;
    start(plan(16, chain.toArray(TaskPlan[]::new)));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).hasSize(5_000).doesNotHaveDuplicates();

    List<Integer> historyLengths = new ArrayList<>();
    String runId = firstRunId;
    while (runId != null) {
      WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId(), runId);
      historyLengths.add(history.getEvents().size());
      HistoryEvent last = history.getLastEvent();
      runId = last.hasWorkflowExecutionContinuedAsNewEventAttributes()
          ? last.getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId() : null;
    }
    assertThat(historyLengths).as("events per run of the workflow").hasSizeGreaterThan(3)
        .allSatisfy(events -> assertThat((long) events).isLessThan(OwnedDagRunWorkflowImpl.CONTINUE_AS_NEW_AFTER_EVENTS + 500));
  }

  @Test
  void viewQueryListsEachTryWithTheStateAirflowGaveItAndWhatTheRunWaitsFor() {
    airflow.script("flaky", TaskState.UP_FOR_RETRY, TaskState.SUCCESS);
    start(plan(16, withRetries(task("flaky"), 2, Duration.ofMinutes(5)), task("load", "flaky")));
    // Time skips only while the test waits for the result: until then the retry delay is waited out for real.
    awaitTrue(() -> !workflow().view().waits().isEmpty(), "flaky's retry delay");
    RunView view = workflow().view();
    assertThat(view.mode()).isEqualTo(RunView.OWNED);
    assertThat(view.phase()).isEqualTo("running");
    assertThat(view.attempts()).extracting(a -> a.taskId() + " try " + a.tryNumber() + " " + a.state())
        .containsExactly("flaky try 1 up_for_retry");
    AttemptView first = view.attempts().get(0);
    assertThat(first.queue()).isEqualTo("default");
    assertThat(first.endedAt()).isAfterOrEqualTo(first.startedAt());
    assertThat(view.waits()).singleElement().satisfies(wait -> {
      assertThat(wait.taskId() + " try " + wait.tryNumber() + " " + wait.reason()).isEqualTo("flaky try 2 retry_delay");
      assertThat(wait.until()).isAfter(first.endedAt());
    });

    assertThat(result()).isEqualTo("success");
    RunView after = workflow().view();
    assertThat(after.phase()).isEqualTo("success");
    assertThat(after.attempts()).extracting(a -> a.taskId() + " try " + a.tryNumber() + " " + a.state())
        .containsExactly("flaky try 1 up_for_retry", "flaky try 2 success", "load try 1 success");
    assertThat(after.waits()).isEmpty();
  }

  @Test
  void progressQueryCountsTaskStates() throws Exception {
    airflow.holdRunner.put("extract", new CountDownLatch(1));
    start(plan(16, task("extract"), task("load", "extract")));
    OwnedDagRunWorkflow workflow = env.getWorkflowClient().newWorkflowStub(OwnedDagRunWorkflow.class, workflowId());
    OwnedDagRunProgress progress = workflow.progress();
    for (int i = 0; i < 100 && progress.running().isEmpty(); i++) {
      Thread.sleep(50);
      progress = workflow.progress();
    }
    assertThat(progress.state()).isEqualTo("running");
    assertThat(progress.taskStates()).containsEntry("queued", 1).containsEntry("none", 1);
    assertThat(progress.running()).containsExactly("extract try 1");
    airflow.holdRunner.get("extract").countDown();
    assertThat(result()).isEqualTo("success");
  }

  @Test
  void historyReplaysDeterministically() throws Exception {
    airflow.script("flaky", TaskState.UP_FOR_RETRY, TaskState.SUCCESS);
    airflow.poolFullFor("load", 1);
    start(plan(16, withRetries(task("flaky"), 1, Duration.ofSeconds(30)), task("load", "flaky"), task("other")));
    assertThat(result()).isEqualTo("success");
    WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId());
    assertThat(history.getEvents()).anyMatch(e -> e.getEventType() == EventType.EVENT_TYPE_MARKER_RECORDED);
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(history, replayEnv, OwnedDagRunWorkflowImpl.class);
    }
  }

  // ---------------------------------------------------------------- cleared in Airflow

  @Test
  void aFailedRunClearedInAirflowIsResumedRunningOnlyTheClearedTasksAtTheirNextTry() throws Exception {
    airflow.script("transform", TaskState.FAILED, TaskState.SUCCESS);
    start(plan(16, task("extract"), task("transform", "extract"), task("load", "transform")));
    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.tiSummary()).containsEntry("transform", "failed 1").containsEntry("load", "upstream_failed 0");

    airflow.clear("transform", "load");  // Clear on the failed task, with its downstream
    assertThat(airflow.runState()).isEqualTo("queued");
    String resumedRunId = startResume().getRunId();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.resumptions).containsExactly("resume queued");
    assertThat(airflow.started).containsExactly("extract try 1", "transform try 1", "transform try 2", "load try 1");
    assertThat(airflow.tiSummary()).isEqualTo(Map.of("extract", "success 1", "transform", "success 2",
        "load", "success 1"));
    assertThat(airflow.finishedAs).containsExactly("failed", "success");
    assertThat(airflow.created.get()).as("the run is resumed, not created again").isEqualTo(1);

    WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId(), resumedRunId);
    try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecution(history, replayEnv, OwnedDagRunWorkflowImpl.class);
    }
  }

  @Test
  void aRunCreatedQueuedAtTheDagsMaxActiveRunsWaitsForASlotThenRunsItsTasks() {
    airflow.atMaxActiveRunsFor(3);
    start(plan(16, task("extract"), task("load", "extract")));
    assertThat(result()).isEqualTo("success");
    assertThat(airflow.resumptions).as("rechecked until a slot was free").containsExactly(
        "resume queued", "resume queued", "resume queued", "resume queued");
    assertThat(airflow.started).containsExactly("extract try 1", "load try 1");
    assertThat(airflow.finishedAs).containsExactly("success");
  }

  @Test
  void aSecondResumptionIsRefusedWhileTheFirstRunsAndFindsNothingToDoAfterIt() {
    airflow.script("transform", TaskState.FAILED, TaskState.SUCCESS);
    start(plan(16, task("extract"), task("transform", "extract")));
    assertThat(result()).isEqualTo("failed");
    airflow.clear("transform");
    CountDownLatch hold = new CountDownLatch(1);
    airflow.holdRunner.put("transform", hold);
    startResume();
    awaitTrue(() -> airflow.started.contains("transform try 2"), "the resumed run's transform try 2 to start");

    assertThatThrownBy(this::startResume).as("Temporal refuses a second workflow beside the first")
        .isInstanceOf(WorkflowExecutionAlreadyStarted.class);
    hold.countDown();
    assertThat(result()).isEqualTo("success");

    startResume();
    assertThat(result()).as("the run is success, not queued: nothing to resume").isEqualTo("success");
    assertThat(airflow.resumptions).containsExactly("resume queued", "resume success");
    assertThat(airflow.started).containsExactly("extract try 1", "transform try 1", "transform try 2");
    assertThat(airflow.finishedAs).containsExactly("failed", "success");
  }

  @Test
  void aTaskClearedWhileItsRunStillRunsRunsAgainAndTheRunIsNotClosedOnTheStatesBeforeTheClear() {
    CountDownLatch holdB = new CountDownLatch(1);
    airflow.holdRunner.put("b", holdB);
    airflow.script("a", TaskState.FAILED, TaskState.SUCCESS);
    start(plan(16, task("a"), task("b"), task("c", "a")));
    awaitTrue(() -> "upstream_failed 0".equals(airflow.tiSummary().get("c")), "a to fail and c to be upstream_failed");

    airflow.clear("a", "c");  // while b still runs: the run stays running
    assertThat(airflow.runState()).isEqualTo("running");
    holdB.countDown();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.refusedAsCleared).as("the close decided on a failed 'a' was refused")
        .containsExactly("finish failed");
    assertThat(airflow.resumptions).containsExactly("read back running");
    assertThat(airflow.started.subList(0, 2)).as("a and b start together").containsExactlyInAnyOrder("a try 1", "b try 1");
    assertThat(airflow.started.subList(2, 4)).containsExactly("a try 2", "c try 1");
    assertThat(airflow.finishedAs).containsExactly("success");
    assertThat(airflow.tiSummary()).isEqualTo(Map.of("a", "success 2", "b", "success 1", "c", "success 1"));
  }

  @Test
  void aClearSignalledWhileAnotherTaskRunsRunsTheClearedTaskWithoutWaitingForThatTask() {
    CountDownLatch holdB = new CountDownLatch(1);
    airflow.holdRunner.put("b", holdB);
    airflow.script("a", TaskState.FAILED, TaskState.SUCCESS);
    start(plan(16, task("a"), task("b"), task("c", "a")));
    awaitTrue(() -> "upstream_failed 0".equals(airflow.tiSummary().get("c")), "a to fail and c to be upstream_failed");

    airflow.clear("a", "c");
    workflow().dagRunCleared(1);
    awaitTrue(() -> "success 1".equals(airflow.tiSummary().get("c")), "a try 2 and c to succeed while b still runs");
    assertThat(airflow.tiSummary()).containsEntry("b", "queued 1");
    holdB.countDown();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.refusedAsCleared).as("the clear was read back before any write").isEmpty();
    assertThat(airflow.started.subList(0, 2)).as("a and b start together").containsExactlyInAnyOrder("a try 1", "b try 1");
    assertThat(airflow.started.subList(2, 4)).containsExactly("a try 2", "c try 1");
    assertThat(airflow.finishedAs).containsExactly("success");
  }

  @Test
  void aRunEndedInAirflowAfterAClearIsLeftAsItIsAndItsWorkflowEndsOnceItsTriesHave() {
    CountDownLatch holdB = new CountDownLatch(1);
    airflow.holdRunner.put("b", holdB);
    airflow.script("a", TaskState.FAILED);
    start(plan(16, task("a"), task("b"), task("c", "a")));
    awaitTrue(() -> "upstream_failed 0".equals(airflow.tiSummary().get("c")), "a to fail and c to be upstream_failed");

    airflow.clear("a", "c");
    airflow.markRun("success");  // "Mark run as success" in the UI
    workflow().dagRunCleared(1);
    awaitTrue(() -> airflow.resumptions.contains("read back success"), "the workflow to read the run back");
    holdB.countDown();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.finishedAs).as("the workflow wrote no end of its own").isEmpty();
    assertThat(airflow.started).containsExactlyInAnyOrder("a try 1", "b try 1");
  }

  @Test
  void aRunPastItsDagrunTimeoutIsFailedWithItsUnfinishedTasksSkippedAndEndsOnceItsRunningTryStopped() {
    airflow.holdRunner.put("long", new CountDownLatch(1));  // let go only by the timeout
    DagPlan untimed = plan(16, task("quick"), task("long", "quick"), task("after", "long"));
    start(new DagPlan(untimed.dagId(), untimed.timetable(), untimed.maxActiveTasks(), untimed.tasks(),
        Optional.of(Duration.ofSeconds(2))));

    assertThat(result()).isEqualTo("failed");
    assertThat(airflow.finishedAs).containsExactly("failed: timed out");
    assertThat(airflow.started).containsExactly("quick try 1", "long try 1");
    assertThat(airflow.tiSummary()).isEqualTo(Map.of("quick", "success 1", "long", "skipped 1", "after", "skipped 0"));
    assertThat(workflow().progress().state()).isEqualTo("failed");
  }

  @Test
  void aTryClearedWhileItRunsRunsAgainAtTheNextTryOnceItsRunnerHasStopped() {
    CountDownLatch hold = new CountDownLatch(1);
    airflow.holdRunner.put("long", hold);
    start(plan(16, task("long"), task("after", "long")));
    awaitTrue(() -> airflow.started.contains("long try 1"), "long try 1 to start");

    airflow.clear("long");  // running: restarting until its runner ends
    workflow().dagRunCleared(1);
    hold.countDown();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("long try 1", "long try 2", "after try 1");
    assertThat(airflow.tiSummary()).isEqualTo(Map.of("long", "success 2", "after", "success 1"));
  }

  @Test
  void aClearedMappedTaskIsRevisedToTheLengthItsRerunUpstreamRecordedAsAirflowsSchedulerDoes() {
    airflow.mapLengths.put("double", 3);
    start(plan(16, task("numbers"), mappedOver(task("double", "numbers"), "numbers"), task("total", "double")));
    assertThat(result()).isEqualTo("success");

    airflow.clear("numbers", "double", "total");  // Clear numbers with its downstream: the run was success
    airflow.mapLengths.put("double", 2);  // its rerun returns a shorter list
    startResume();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.expanded).containsExactly("double", "double");
    assertThat(airflow.started.subList(5, airflow.started.size())).as("after the clear")
        .containsExactlyInAnyOrder("numbers try 2", "double[0] try 2", "double[1] try 2", "total try 2");
    assertThat(airflow.tiSummary()).containsEntry("double[2]", "removed 1").containsEntry("double[0]", "success 2");
  }

  // ---------------------------------------------------------------- tries that wait without a runner

  @Test
  void aSensorInRescheduleModePokesAgainAtTheSameTryOnceEachRescheduleDateHasCome() {
    airflow.script("sensor", TaskState.UP_FOR_RESCHEDULE, TaskState.UP_FOR_RESCHEDULE, TaskState.SUCCESS);
    start(plan(16, task("sensor"), task("after", "sensor")));

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("sensor try 1", "sensor try 1", "sensor try 1", "after try 1");
    for (int poke = 1; poke < 3; poke++) {
      assertThat(Duration.between(airflow.startedAt.get(poke - 1), airflow.startedAt.get(poke)))
          .as("poke %d waited for its reschedule date", poke + 1).isGreaterThanOrEqualTo(airflow.pokeInterval);
    }
    assertThat(airflow.tiSummary()).containsEntry("sensor", "success 1").containsEntry("after", "success 1");
  }

  @Test
  void aDeferredTryHoldsNoSlotAndRunsAgainAtTheSameTryOnceTheSweepSignalsThatAirflowResumedIt() {
    airflow.script("defer", TaskState.DEFERRED, TaskState.SUCCESS);
    start(plan(1, task("defer"), task("other"), task("after", "defer")));
    // max_active_tasks is 1: `other` can only run while `defer` is deferred if the deferral holds no slot.
    awaitTrue(() -> airflow.state("defer") == TaskState.DEFERRED && "success 1".equals(airflow.tiSummary().get("other")),
        "defer deferred and other done beside it");

    airflow.resume("defer");
    workflow().taskInstancesResumed();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("defer try 1", "other try 1", "defer try 1", "after try 1");
    assertThat(airflow.tiSummary()).containsEntry("defer", "success 1");
  }

  @Test
  void aDeferredTryNobodySignalsIsFoundResumedByTheWorkflowsOwnReads() {
    airflow.script("defer", TaskState.DEFERRED, TaskState.SUCCESS);
    start(plan(16, task("defer"), task("after", "defer")));
    awaitTrue(() -> airflow.state("defer") == TaskState.DEFERRED, "defer deferred");

    airflow.resume("defer");

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("defer try 1", "defer try 1", "after try 1");
    assertThat(airflow.taskInstanceReads.get()).isPositive();
  }

  @Test
  void aTaskThatStartsFromItsTriggerIsDeferredWithoutARunnerOrASlotAndItsResumedTryRunsOnAWorker() {
    start(plan(1, fromTrigger(task("sensor")), task("other"), task("after", "sensor")));
    // max_active_tasks is 1: `other` runs beside the sensor, which no runner ever started.
    awaitTrue(() -> airflow.state("sensor") == TaskState.DEFERRED && "success 1".equals(airflow.tiSummary().get("other")),
        "sensor deferred at its start and other done beside it");
    assertThat(airflow.started).containsExactly("other try 1");

    airflow.resume("sensor");
    workflow().taskInstancesResumed();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.deferredAtStart).containsExactly("sensor try 1");
    assertThat(airflow.started).containsExactly("other try 1", "sensor try 1", "after try 1");
  }

  @Test
  void aTaskThatStartsFromItsTriggerAndIsEndedByItNeverRunsOnAWorker() {
    start(plan(16, fromTrigger(task("sensor")), task("after", "sensor")));
    awaitTrue(() -> airflow.state("sensor") == TaskState.DEFERRED, "sensor deferred at its start");

    airflow.endFromTrigger("sensor", TaskState.SUCCESS);

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("after try 1");
  }

  @Test
  void aTriggerThatEndsItsTaskItselfLeavesNoRunnerToResumeIt() {
    airflow.script("wait", TaskState.AWAITING_INPUT);
    start(plan(16, task("wait"), task("after", "wait")));
    awaitTrue(() -> airflow.state("wait") == TaskState.AWAITING_INPUT, "wait parked");

    airflow.endFromTrigger("wait", TaskState.SUCCESS);

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("wait try 1", "after try 1");
  }

  @Test
  void aDayLongDeferralContinuesAsNewKeepingTheParkedTryAndAddsABoundedNumberOfHistoryEvents() {
    env = environment(400);
    airflow.script("defer", TaskState.DEFERRED, TaskState.SUCCESS);
    airflow.plan = plan(16, task("defer"), task("after", "defer"));
    firstRunId = WorkflowClient.start(stub()::run, request(), null).getRunId();
    awaitTrue(() -> airflow.state("defer") == TaskState.DEFERRED, "defer deferred");

    env.sleep(Duration.ofDays(1));
    airflow.resume("defer");
    workflow().taskInstancesResumed();

    assertThat(result()).isEqualTo("success");
    assertThat(airflow.started).containsExactly("defer try 1", "defer try 1", "after try 1");
    List<Integer> historyLengths = new ArrayList<>();
    String runId = firstRunId;
    while (runId != null) {
      WorkflowExecutionHistory history = env.getWorkflowClient().fetchHistory(workflowId(), runId);
      historyLengths.add(history.getEvents().size());
      HistoryEvent last = history.getLastEvent();
      runId = last.hasWorkflowExecutionContinuedAsNewEventAttributes()
          ? last.getWorkflowExecutionContinuedAsNewEventAttributes().getNewExecutionRunId() : null;
    }
    int total = historyLengths.stream().mapToInt(Integer::intValue).sum();
    System.out.printf("a day-long deferral: %d reads, %d history events in %d runs of the workflow%n",
        airflow.taskInstanceReads.get(), total, historyLengths.size());
    assertThat(historyLengths).as("it continued as new while the try was parked").hasSizeGreaterThan(1);
    // Reads back off to one every PARKED_READ_MAX (5 min): 288 a day, plus a few while each new run of the
    // workflow backs off again from PARKED_READ_FIRST; some 6 events each.
    assertThat(airflow.taskInstanceReads.get()).isLessThan(350);
    assertThat(total).isLessThan(2_500);
  }

  // ---------------------------------------------------------------- harness

  private void start(DagPlan plan) {
    env = environment(10_000);
    airflow.plan = plan;
    firstRunId = WorkflowClient.start(stub()::run, request(), null).getRunId();
  }


  /** What the cleared-runs sweep does for a queued external run: a new execution under the run's workflow id. */
  private WorkflowExecution startResume() {
    OwnedDagRunWorkflow resumed = env.getWorkflowClient().newWorkflowStub(OwnedDagRunWorkflow.class,
        WorkflowOptions.newBuilder().setWorkflowId(workflowId()).setTaskQueue(TASK_QUEUE)
            .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
            .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
            .build());
    return WorkflowClient.start(resumed::run, request(), OwnedDagRunCarry.clearedRun());
  }

  private OwnedDagRunWorkflow workflow() {
    return env.getWorkflowClient().newWorkflowStub(OwnedDagRunWorkflow.class, workflowId());
  }

  /** A bounded wait for something the workflow does on its own time (liveness, not timing). */
  private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private TestWorkflowEnvironment environment(long continueAsNewAfterEvents) {
    TestWorkflowEnvironment environment = WireTestEnvironment.newInstance();
    Worker worker = environment.newWorker(TASK_QUEUE, DagRunWorker.workflowWorkerOptions().build());
    worker.registerWorkflowImplementationFactory(OwnedDagRunWorkflow.class,
        () -> new OwnedDagRunWorkflowImpl(continueAsNewAfterEvents), DagRunWorker.WORKFLOW_OPTIONS);
    // As the worker registers them: failures classified retryable (DB out of reach) or permanent.
    worker.registerActivitiesImplementations(DatabaseFailures.classifying(airflow), new ScriptedRunner(airflow, environment));
    airflow.env = environment;
    environment.start();
    this.env = environment;
    return environment;
  }

  private OwnedDagRunWorkflow stub() {
    return env.getWorkflowClient().newWorkflowStub(OwnedDagRunWorkflow.class,
        WorkflowOptions.newBuilder().setWorkflowId(workflowId()).setTaskQueue(TASK_QUEUE).build());
  }

  private String result() {
    return env.getWorkflowClient().newUntypedWorkflowStub(workflowId()).getResult(String.class);
  }

  private static String workflowId() {
    return WorkflowIds.forDagRun(DAG, RUN);
  }

  private static OwnedDagRunRequest request() {
    return new OwnedDagRunRequest(ContractVersion.CURRENT, DAG, RUN, JsonNodeFactory.instance.objectNode(),
        RUN_AFTER, RUN_AFTER, "cli", "alice");
  }

  private static DagPlan plan(int maxActiveTasks, TaskPlan... tasks) {
    return new DagPlan(DAG, new Timetable(Timetable.NULL_TIMETABLE, Optional.empty(), Optional.empty()),
        maxActiveTasks, withDownstreams(List.of(tasks)), Optional.empty());
  }

  private static TaskPlan task(String taskId, String... upstreams) {
    return taskPlan(taskId, List.of(upstreams), List.of(), TriggerRule.ALL_SUCCESS, 0, Duration.ofMinutes(5),
        Optional.empty(), false, "default");
  }

  private static TaskPlan withRetries(TaskPlan t, int retries, Duration delay) {
    return taskPlan(t.taskId(), t.upstreamIds(), t.downstreamIds(), t.triggerRule(), retries, delay, t.expandInput(),
        t.succeedsWithoutRunning(), t.queue());
  }

  private static TaskPlan withRule(TaskPlan t, TriggerRule rule) {
    return taskPlan(t.taskId(), t.upstreamIds(), t.downstreamIds(), rule, t.retries(), t.retryDelay(), t.expandInput(),
        t.succeedsWithoutRunning(), t.queue());
  }

  private static TaskPlan mappedOver(TaskPlan t, String upstream) {
    return taskPlan(t.taskId(), t.upstreamIds(), t.downstreamIds(), t.triggerRule(), t.retries(), t.retryDelay(),
        Optional.of(new ExpandInput(List.of(), List.of(upstream))), false, t.queue());
  }

  private static TaskPlan inMappedGroup(TaskPlan t, String groupId, String over) {
    return new TaskPlan(t.taskId(), t.operatorClass(), null, null, t.upstreamIds(), t.downstreamIds(), t.triggerRule(),
        t.retries(), t.retryDelay(), 0, Optional.empty(), Optional.empty(), "default_pool", 1, t.queue(), 1,
        "downstream", Optional.of(groupId), Optional.empty(),
        List.of(new MappedTaskGroup(groupId, new ExpandInput(List.of(), List.of(over)))), false, false, false,
        Optional.empty());
  }

  private static TaskPlan fromTrigger(TaskPlan t) {
    return new TaskPlan(t.taskId(), t.operatorClass(), null, null, t.upstreamIds(), t.downstreamIds(), t.triggerRule(),
        t.retries(), t.retryDelay(), 0, Optional.empty(), Optional.empty(), "default_pool", 1, t.queue(), 1,
        "downstream", Optional.empty(), Optional.empty(), List.of(), false, false, false,
        Optional.of(new StartTrigger("airflow.providers.standard.triggers.temporal.DateTimeTrigger",
            "{\"__type\": \"dict\", \"__var\": {}}", "execute_complete", null, Optional.empty())));
  }

  private static TaskPlan onQueue(TaskPlan t, String queue) {
    return taskPlan(t.taskId(), t.upstreamIds(), t.downstreamIds(), t.triggerRule(), t.retries(), t.retryDelay(),
        t.expandInput(), t.succeedsWithoutRunning(), queue);
  }

  private static TaskPlan empty(TaskPlan t) {
    return taskPlan(t.taskId(), t.upstreamIds(), t.downstreamIds(), t.triggerRule(), t.retries(), t.retryDelay(),
        t.expandInput(), true, t.queue());
  }

  private static TaskPlan taskPlan(String taskId, List<String> upstreams, List<String> downstreams, TriggerRule rule,
                                   int retries, Duration retryDelay, Optional<ExpandInput> expandInput, boolean empty,
                                   String queue) {
    return new TaskPlan(taskId, "airflow.providers.standard.operators.bash.BashOperator", null, null, upstreams, downstreams, rule,
        retries, retryDelay, 0, Optional.empty(), Optional.empty(), "default_pool", 1, queue, 1, "downstream",
        Optional.empty(), expandInput, List.of(), false, false, empty, Optional.empty());
  }

  private static List<TaskPlan> withDownstreams(List<TaskPlan> tasks) {
    List<TaskPlan> result = new ArrayList<>();
    for (TaskPlan t : tasks) {
      List<String> downstreams = tasks.stream().filter(o -> o.upstreamIds().contains(t.taskId())).map(TaskPlan::taskId).toList();
      result.add(new TaskPlan(t.taskId(), t.operatorClass(), t.operatorName(), t.displayName(), t.upstreamIds(),
          downstreams, t.triggerRule(), t.retries(), t.retryDelay(), t.retryExponentialBackoff(), t.maxRetryDelay(),
          t.executionTimeout(), t.pool(), t.poolSlots(), t.queue(), t.priorityWeight(), t.weightRule(),
          t.taskGroupId(), t.expandInput(), t.mappedTaskGroups(), t.setup(), t.teardown(), t.succeedsWithoutRunning(),
          t.startTrigger()));
    }
    return result;
  }

  /**
   * Airflow's DB as the sync activities see it, with each task's outcomes scripted per try: it keeps
   * each task instance's state and try, the run's state and clear_number, and refuses writes decided
   * before a {@link #clear} as the real activities do.
   */
  static final class FakeAirflow implements DagRunSyncActivities {
    DagPlan plan;
    String rejectWith;
    String settleBreaksFor;
    /** A task whose settle step answers null, as a bug in a step would: workflow code then meets a null. */
    String settleAnswersNullFor;
    /** The next resume commits, then its answer is lost (as when the worker dies right after the commit). */
    volatile boolean loseNextResumeAnswer;
    /** Airflow's DB is out of reach until then (workflow time): every step fails as with Postgres down. */
    volatile Instant outageUntil = Instant.MIN;
    /** The task after whose runner the DB goes away, and for how long. */
    String outageAfter;
    Duration outage = Duration.ZERO;
    final AtomicInteger unavailableAnswers = new AtomicInteger();
    Duration taskQueuedTimeout = OwnedRun.DEFAULT_TASK_QUEUED_TIMEOUT;
    final List<String> failedWith = new CopyOnWriteArrayList<>();
    TestWorkflowEnvironment env;
    /** Real time each runner takes (a few ms so that concurrent tries overlap). */
    Duration runDuration = Duration.ofMillis(5);
    final Map<String, CountDownLatch> holdRunner = new ConcurrentHashMap<>();
    final AtomicInteger created = new AtomicInteger();
    final AtomicInteger plansLoaded = new AtomicInteger();
    final AtomicInteger queueRequests = new AtomicInteger();
    final List<String> deferredAtStart = new CopyOnWriteArrayList<>();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();
    final List<String> started = new CopyOnWriteArrayList<>();
    final List<Instant> startedAt = new CopyOnWriteArrayList<>();
    final List<String> finishedAs = new CopyOnWriteArrayList<>();
    final List<Boolean> settledRetryable = new CopyOnWriteArrayList<>();
    final List<String> refusedAsCleared = new CopyOnWriteArrayList<>();
    final List<String> resumptions = new CopyOnWriteArrayList<>();
    final Map<String, String> marks = new ConcurrentHashMap<>();
    final Map<String, Integer> mapLengths = new ConcurrentHashMap<>();
    final List<String> expanded = new CopyOnWriteArrayList<>();
    private final Map<String, Deque<TaskState>> outcomes = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> poolFullTimes = new ConcurrentHashMap<>();
    private final Map<String, List<String>> skips = new ConcurrentHashMap<>();
    private final Map<String, Boolean> runnerDies = new ConcurrentHashMap<>();
    private final Map<String, Instant> ranUntil = new ConcurrentHashMap<>();
    // The DB: the run's state and clear_number, each task instance's state and try.
    private String runState;
    private int clearNumber;
    private UUID dagVersionId;
    private final Map<TaskInstanceRef, TaskState> tiStates = new TreeMap<>();
    private final Map<TaskInstanceRef, Integer> tiTries = new TreeMap<>();
    private final Map<TaskInstanceRef, Integer> tiMaxTries = new TreeMap<>();
    /** How many more times the DAG's max_active_runs keep a queued run from starting. */
    private int runSlotChecksRefused;
    /** Tries Airflow cleared while they ran: restarting until their runner ends. */
    private final Set<TaskInstanceRef> restarting = new TreeSet<>();
    /** How long after its end a sensor scripted up_for_reschedule asks to poke again. */
    Duration pokeInterval = Duration.ofSeconds(30);
    final AtomicInteger taskInstanceReads = new AtomicInteger();

    /** Airflow's triggerer fired the trigger of a deferred try (or a human answered): it is scheduled. */
    synchronized void resume(String taskId) {
      resolveParked(taskId, TaskState.SCHEDULED);
    }

    /** The trigger of a deferred try ended the task itself (end_from_trigger). */
    synchronized void endFromTrigger(String taskId, TaskState state) {
      resolveParked(taskId, state);
    }

    synchronized TaskState state(String taskId) {
      return tiStates.get(TaskInstanceRef.of(taskId));
    }

    private void resolveParked(String taskId, TaskState state) {
      TaskInstanceRef ref = TaskInstanceRef.of(taskId);
      TaskState parked = tiStates.get(ref);
      if (parked != TaskState.DEFERRED && parked != TaskState.AWAITING_INPUT) {
        throw new IllegalStateException(taskId + " is " + parked + ", not parked");
      }
      tiStates.put(ref, state);
    }

    /** @param taskId a task id (every instance), or one instance's label ({@code task[i]}) */
    void script(String taskId, TaskState... states) {
      outcomes.put(taskId, new ConcurrentLinkedDeque<>(List.of(states)));
    }

    void poolFullFor(String taskId, int times) {
      poolFullTimes.put(taskId, new AtomicInteger(times));
    }

    void skipsOnSuccess(String taskId, String... skipped) {
      skips.put(taskId, List.of(skipped));
    }

    void runnerDies(String taskId) {
      runnerDies.put(taskId, true);
    }

    /** The DAG's max_active_runs are running: the run is created queued and starts at the n+1th check. */
    synchronized void atMaxActiveRunsFor(int checks) {
      runSlotChecksRefused = checks;
    }

    /**
     * What Airflow's clear_task_instances does to the rows: each task instance of these tasks goes
     * back to None at its try (max_tries = try + retries), or to restarting while a try of it runs;
     * clear_number + 1; a finished run becomes queued, a running one stays running.
     */
    synchronized void clear(String... taskIds) {
      for (String taskId : taskIds) {
        for (TaskInstanceRef ref : List.copyOf(tiStates.keySet())) {
          if (!ref.taskId().equals(taskId)) {
            continue;
          }
          TaskState state = tiStates.get(ref);
          if (state == TaskState.RUNNING || state == TaskState.QUEUED) {
            restarting.add(ref);
          } else {
            tiStates.put(ref, TaskState.NONE);
            tiMaxTries.put(ref, tiTries.get(ref) + plan.task(taskId).retries());
          }
        }
      }
      clearNumber++;
      if (runState.equals("success") || runState.equals("failed")) {
        runState = "queued";
      }
    }

    /** The UI's "Mark run as ..." */
    synchronized void markRun(String state) {
      runState = state;
    }

    synchronized String runState() {
      return runState;
    }

    synchronized Map<String, String> tiSummary() {
      Map<String, String> summary = new TreeMap<>();
      tiStates.forEach((ref, state) -> summary.put(ref.label(), state.airflowName() + " " + tiTries.get(ref)));
      return summary;
    }

    /** What Hibernate over HikariCP throws while PostgreSQL is down. */
    private void unavailableUntilOutageEnds(String step) {
      if (Instant.ofEpochMilli(env.currentTimeMillis()).isBefore(outageUntil)) {
        unavailableAnswers.incrementAndGet();
        throw new JDBCConnectionException("Unable to acquire JDBC Connection for " + step,
            new SQLTransientConnectionException("airflow-metadata - Connection is not available, request timed out "
                + "after 10000ms (total=0, active=0, idle=0, waiting=0)"));
      }
    }

    private void refuseIfCleared(OwnedRun run, String step) {
      if (run.clearNumber() != clearNumber) {
        refusedAsCleared.add(step);
        throw ApplicationFailure.newNonRetryableFailure("cleared since clear_number " + run.clearNumber(), CLEARED);
      }
    }

    private void putRow(TaskInstanceRef ref, TaskState state, int tryNumber) {
      tiStates.put(ref, state);
      tiTries.put(ref, tryNumber);
    }

    private OwnedRun ownedRun(String runId, OffsetDateTime logicalDate) {
      return new OwnedRun(DAG, runId, dagVersionId, "etl.py", "dags-folder", null, logicalDate, clearNumber,
          taskQueuedTimeout, Instant.ofEpochMilli(env.currentTimeMillis()));
    }

    @Override
    public synchronized CreatedDagRun createDagRun(OwnedDagRunRequest request) {
      if (rejectWith != null) {
        throw ApplicationFailure.newNonRetryableFailure(rejectWith, REJECTED);
      }
      created.incrementAndGet();
      runState = runSlotChecksRefused > 0 ? "queued" : "running";
      dagVersionId = UUID.randomUUID();
      for (TaskPlan task : plan.tasks()) {
        putRow(TaskInstanceRef.of(task.taskId()), TaskState.NONE, 0);
        tiMaxTries.put(TaskInstanceRef.of(task.taskId()), task.retries());
      }
      return new CreatedDagRun(ownedRun(request.runId(), request.logicalDate()), PackedPlan.pack(plan),
          runState.equals("queued"));
    }

    @Override
    public synchronized ResumedDagRun resumeDagRun(String dagId, String runId, List<TaskInstanceRef> inFlight) {
      unavailableUntilOutageEnds("resume_dag_run");
      resumptions.add((inFlight.isEmpty() && !runState.equals("running") ? "resume " : "read back ") + runState);
      if (runState.equals("queued") && runSlotChecksRefused > 0) {
        runSlotChecksRefused--;
        return ResumedDagRun.nothingToDrive(runState);
      }
      boolean resumed = runState.equals("queued");
      if (resumed) {
        runState = "running";
        if (loseNextResumeAnswer) {
          loseNextResumeAnswer = false;
          throw new JDBCConnectionException("I/O error reading the answer", new SQLTransientConnectionException(
              "An I/O error occurred while sending to the backend."));
        }
      } else if (!runState.equals("running")) {
        return ResumedDagRun.nothingToDrive(runState);
      }
      List<TaskInstanceSnapshot> snapshots = new ArrayList<>();
      tiStates.forEach((ref, state) -> snapshots.add(new TaskInstanceSnapshot(ref,
          restarting.contains(ref) ? TaskState.RUNNING : state, tiTries.get(ref), Instant.EPOCH, null, null)));
      return new ResumedDagRun(resumed, runState, ownedRun(runId, null), PackedPlan.pack(plan), snapshots);
    }

    @Override
    public PackedPlan loadPlan(String dagId, UUID dagVersionId) {
      plansLoaded.incrementAndGet();
      return PackedPlan.pack(plan);
    }

    @Override
    public synchronized int expandMappedTask(OwnedRun run, TaskPlan task, int priorityWeight) {
      refuseIfCleared(run, "expand " + task.taskId());
      expanded.add(task.taskId());
      int length = mapLengths.getOrDefault(task.taskId(), -1);
      TaskInstanceRef unmapped = TaskInstanceRef.of(task.taskId());
      if (length == 0 && tiStates.containsKey(unmapped)) {
        putRow(unmapped, TaskState.SKIPPED, 0);
      } else if (length >= 0) {
        // As TaskInstanceCreation.expandMapped: indexes below the length exist (new ones None), the others are removed.
        tiStates.remove(unmapped);
        tiTries.remove(unmapped);
        for (TaskInstanceRef ref : List.copyOf(tiStates.keySet())) {
          if (ref.taskId().equals(task.taskId()) && ref.mapIndex() >= length) {
            tiStates.put(ref, TaskState.REMOVED);
          }
        }
        for (int i = 0; i < length; i++) {
          TaskInstanceRef ref = new TaskInstanceRef(task.taskId(), i);
          if (!tiStates.containsKey(ref)) {
            putRow(ref, TaskState.NONE, 0);
            tiMaxTries.put(ref, task.retries());
          }
        }
      }
      return length;
    }

    @Override
    public synchronized List<QueueResult> queueAttempts(OwnedRun run, List<AttemptToQueue> attempts) {
      unavailableUntilOutageEnds("queue_attempts");
      refuseIfCleared(run, "queue " + attempts.stream().map(a -> a.taskId() + " try " + a.tryNumber()).toList());
      List<QueueResult> results = new ArrayList<>();
      for (AttemptToQueue attempt : attempts) {
        queueRequests.incrementAndGet();
        AtomicInteger full = poolFullTimes.get(attempt.taskId());
        if (full != null && full.getAndDecrement() > 0) {
          results.add(QueueResult.poolFull(attempt));
        } else {
          putRow(new TaskInstanceRef(attempt.taskId(), attempt.mapIndex()), TaskState.QUEUED, attempt.tryNumber());
          results.add(QueueResult.queued(attempt, UUID.randomUUID(), Instant.now()));
        }
      }
      return results;
    }

    @Override
    public synchronized List<QueueResult> deferAttempts(OwnedRun run, List<AttemptToDefer> attempts) {
      unavailableUntilOutageEnds("defer_attempts");
      refuseIfCleared(run, "defer " + attempts.stream().map(a -> a.taskId() + " try " + a.tryNumber()).toList());
      List<QueueResult> results = new ArrayList<>();
      for (AttemptToDefer attempt : attempts) {
        deferredAtStart.add(new TaskInstanceRef(attempt.taskId(), attempt.mapIndex()).label() + " try " + attempt.tryNumber());
        putRow(new TaskInstanceRef(attempt.taskId(), attempt.mapIndex()), TaskState.DEFERRED, attempt.tryNumber());
        results.add(QueueResult.deferred(attempt.attempt()));
      }
      return results;
    }

    @Override
    public SettledAttempt settleAttempt(OwnedRun run, String taskId, int mapIndex, int tryNumber, Instant since,
                                        int taskRetries) {
      unavailableUntilOutageEnds("settle_attempt");
      if (taskId.equals(settleBreaksFor)) {
        throw new IllegalStateException("TaskInstance state 'bogus' is not one a Temporal-owned run uses");
      }
      if (taskId.equals(settleAnswersNullFor)) {
        return null;
      }
      TaskInstanceRef ref = new TaskInstanceRef(taskId, mapIndex);
      synchronized (this) {
        if (restarting.remove(ref)) {
          // Cleared while it ran: back to None (max_tries = try + retries), to run again.
          putRow(ref, TaskState.NONE, tryNumber);
          tiMaxTries.put(ref, tryNumber + taskRetries);
          return new SettledAttempt(ref, tryNumber, TaskState.NONE, Instant.EPOCH, null, List.of());
        }
      }
      synchronized (this) {
        if (tiStates.get(ref) == TaskState.SKIPPED) {
          // Skipped while it ran (the run timed out): its runner was stopped, the state stays.
          return new SettledAttempt(ref, tryNumber, TaskState.SKIPPED, Instant.EPOCH, null, List.of());
        }
      }
      Deque<TaskState> scripted = outcomes.getOrDefault(ref.label(), outcomes.get(taskId));
      TaskState state;
      if (runnerDies.containsKey(taskId) || !started.contains(ref.label() + " try " + tryNumber)) {
        // The runner died, or no worker ever picked the try up: failed as Airflow's handle_failure would.
        boolean retryable = taskRetries > 0 && tryNumber <= tiMaxTries.getOrDefault(ref, taskRetries);
        settledRetryable.add(retryable);
        state = retryable ? TaskState.UP_FOR_RETRY : TaskState.FAILED;
      } else {
        state = scripted == null || scripted.isEmpty() ? TaskState.SUCCESS : scripted.poll();
      }
      List<TaskInstanceRef> skipped = state == TaskState.SUCCESS
          ? skips.getOrDefault(taskId, List.<String>of()).stream().map(TaskInstanceRef::of).toList() : List.of();
      synchronized (this) {
        putRow(ref, state, tryNumber);
        skipped.forEach(s -> putRow(s, TaskState.SKIPPED, 0));
      }
      Instant ended = ranUntil.getOrDefault(taskId, Instant.EPOCH);
      return new SettledAttempt(ref, tryNumber, state, ended, null, skipped,
          state == TaskState.UP_FOR_RESCHEDULE ? ended.plus(pokeInterval) : null);
    }

    @Override
    public synchronized List<TaskInstanceSnapshot> readTaskInstances(OwnedRun run, List<TaskInstanceRef> refs) {
      unavailableUntilOutageEnds("read_task_instances");
      taskInstanceReads.incrementAndGet();
      return refs.stream().filter(tiStates::containsKey)
          .map(ref -> new TaskInstanceSnapshot(ref, tiStates.get(ref), tiTries.get(ref), Instant.EPOCH, null, null))
          .toList();
    }

    @Override
    public synchronized void markTasks(OwnedRun run, List<TaskInstanceMark> marks) {
      unavailableUntilOutageEnds("mark_tasks");
      refuseIfCleared(run, "mark " + marks.stream().map(m -> m.ref().label() + " " + m.state().airflowName()).toList());
      marks.forEach(mark -> {
        this.marks.put(mark.ref().label(), mark.state().airflowName());
        int tries = tiTries.getOrDefault(mark.ref(), 0);
        putRow(mark.ref(), mark.state(), mark.state() == TaskState.SUCCESS ? tries + 1 : tries);
      });
    }

    @Override
    public synchronized void finishDagRun(OwnedRun run, String state) {
      unavailableUntilOutageEnds("finish_dag_run");
      if (runState.equals("success") || runState.equals("failed")) {
        return;
      }
      refuseIfCleared(run, "finish " + state);
      runState = state;
      finishedAs.add(state);
    }

    /**
     * As the scheduler's dagrun_timeout: unfinished task instances skipped, the run failed; a held runner is
     * let go, as the Execution API stops a runner whose task instance is no longer running.
     */
    @Override
    public synchronized void timeOutDagRun(OwnedRun run) {
      unavailableUntilOutageEnds("time_out_dag_run");
      if (runState.equals("success") || runState.equals("failed")) {
        return;
      }
      refuseIfCleared(run, "time out");
      tiStates.replaceAll((ref, state) -> state.finished() ? state : TaskState.SKIPPED);
      runState = "failed";
      finishedAs.add("failed: timed out");
      holdRunner.values().forEach(CountDownLatch::countDown);
    }

    /** As "Mark run as failed": running tries failed, the other unfinished ones skipped, the run failed. */
    @Override
    public synchronized void failDagRun(String dagId, String runId, String reason) {
      unavailableUntilOutageEnds("fail_dag_run");
      failedWith.add(reason);
      if (runState.equals("success") || runState.equals("failed")) {
        return;
      }
      tiStates.replaceAll((ref, state) -> state == TaskState.RUNNING ? TaskState.FAILED
          : state.finished() ? state : TaskState.SKIPPED);
      runState = "failed";
    }
  }

  /** The task runner: takes {@code runDuration} (or until released) and exits 0. */
  static final class ScriptedRunner implements TaskActivities {
    private final FakeAirflow airflow;
    private final TestWorkflowEnvironment env;

    ScriptedRunner(FakeAirflow airflow, TestWorkflowEnvironment env) {
      this.airflow = airflow;
      this.env = env;
    }

    @Override
    public TaskAttemptResult runTask(TaskAttempt attempt) {
      throw new UnsupportedOperationException("executor mode is not used by owned runs");
    }

    @Override
    public TaskAttemptResult reattachTask(RunnerWhereabouts whereabouts) {
      throw new UnsupportedOperationException("these runners never outlive their activity");
    }

    @Override
    public TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload) {
      airflow.started.add(new TaskInstanceRef(workload.ti().taskId(), workload.ti().mapIndex()).label()
          + " try " + workload.ti().tryNumber());
      airflow.startedAt.add(Instant.ofEpochMilli(env.currentTimeMillis()));
      int now = airflow.concurrent.incrementAndGet();
      airflow.maxConcurrent.accumulateAndGet(now, Math::max);
      try {
        CountDownLatch hold = airflow.holdRunner.get(workload.ti().taskId());
        if (hold != null) {
          hold.await(30, TimeUnit.SECONDS);
        }
        Thread.sleep(airflow.runDuration.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } finally {
        airflow.concurrent.decrementAndGet();
      }
      airflow.ranUntil.put(workload.ti().taskId(), Instant.ofEpochMilli(env.currentTimeMillis()));
      if (workload.ti().taskId().equals(airflow.outageAfter)) {
        airflow.outageUntil = Instant.ofEpochMilli(env.currentTimeMillis()).plus(airflow.outage);
      }
      return new TaskAttemptResult(0, null, "");
    }
  }
}
