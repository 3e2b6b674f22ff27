package dev.airflowtemporal.workflows.schedule;

import dev.airflowtemporal.workflows.WireTestEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airflowtemporal.core.dag.Timetable;
import dev.airflowtemporal.core.schedule.DagSchedule;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.workflows.DagRunWorker;
import io.temporal.api.enums.v1.IndexedValueType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.SearchAttributes;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A schedule firing, started as Temporal's scheduler starts it (with {@code TemporalScheduledStartTime}),
 * against a stand-in {@code OwnedDagRun} that records what it was started with.
 */
class ScheduledDagRunWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final DagSchedule HOURLY_TRIGGER =
      DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 * * * *"), "UTC", false);
  private static final DagSchedule HOURLY_DATA_INTERVAL =
      DagSchedule.cron(Timetable.CRON_DATA_INTERVAL_TIMETABLE, List.of("0 * * * *"), "UTC", true);

  /** What the stand-in OwnedDagRun workflows were started with, by workflow id. */
  static final List<String> startedIds = new CopyOnWriteArrayList<>();
  static final List<OwnedDagRunRequest> startedRequests = new CopyOnWriteArrayList<>();

  @WorkflowInterface
  public interface OwnedDagRunStandIn {
    @WorkflowMethod(name = ScheduledDagRunWorkflowImpl.OWNED_DAG_RUN_WORKFLOW_TYPE)
    void run(OwnedDagRunRequest request);
  }

  public static class OwnedDagRunStandInImpl implements OwnedDagRunStandIn {
    @Override
    public void run(OwnedDagRunRequest request) {
      startedIds.add(Workflow.getInfo().getWorkflowId());
      startedRequests.add(request);
      Workflow.sleep(Duration.ofHours(1)); // a DagRun outlives the firing that created it
    }
  }

  private TestWorkflowEnvironment env;
  private WorkflowClient client;

  @BeforeEach
  void setUp() {
    startedIds.clear();
    startedRequests.clear();
    env = WireTestEnvironment.newInstance();
    env.registerSearchAttribute("TemporalScheduledStartTime", IndexedValueType.INDEXED_VALUE_TYPE_DATETIME);
    Worker worker = env.newWorker(TASK_QUEUE);
    worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS,
        ScheduledDagRunWorkflowImpl.class, OwnedDagRunStandInImpl.class);
    env.start();
    client = env.getWorkflowClient();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  @Test
  void aFiringStartsOneOwnedDagRunDueAtTheScheduledTime() {
    String workflowId = fire("scheduled:etl-1", "etl", HOURLY_TRIGGER, "2026-05-01T10:00:00Z");

    assertThat(workflowId).isEqualTo("dagrun:etl:external__2026-05-01T10:00:00+00:00");
    awaitStarted(1);
    assertThat(startedIds).containsExactly(workflowId);
    OwnedDagRunRequest request = startedRequests.get(0);
    assertThat(request.contractVersion()).isEqualTo(ContractVersion.CURRENT);
    assertThat(request.dagId()).isEqualTo("etl");
    assertThat(request.runId()).isEqualTo("external__2026-05-01T10:00:00+00:00");
    assertThat(request.logicalDate()).isEqualTo(OffsetDateTime.parse("2026-05-01T10:00:00Z"));
    assertThat(request.runAfter()).isEqualTo(OffsetDateTime.parse("2026-05-01T10:00:00Z"));
    assertThat(request.triggeredBy()).isEqualTo("timetable");
    assertThat(request.conf().isObject() && request.conf().isEmpty()).isTrue();
    assertThat(request.problems()).isEmpty();
  }

  @Test
  void aDataIntervalTimetablesRunIsForTheIntervalTheFiringCloses() {
    fire("scheduled:etl-1", "etl", HOURLY_DATA_INTERVAL, "2026-05-01T10:00:00Z");

    awaitStarted(1);
    OwnedDagRunRequest request = startedRequests.get(0);
    assertThat(request.logicalDate()).isEqualTo(OffsetDateTime.parse("2026-05-01T09:00:00Z"));
    assertThat(request.runAfter()).isEqualTo(OffsetDateTime.parse("2026-05-01T10:00:00Z"));
    assertThat(startedIds).containsExactly("dagrun:etl:external__2026-05-01T09:00:00+00:00");
  }

  @Test
  void everyFiringIsItsOwnRunAndAFiringHandledTwiceStartsNothingNew() {
    String first = fire("scheduled:etl-1", "etl", HOURLY_TRIGGER, "2026-05-01T10:00:00Z");
    String second = fire("scheduled:etl-2", "etl", HOURLY_TRIGGER, "2026-05-01T11:00:00Z");
    String again = fire("scheduled:etl-1-again", "etl", HOURLY_TRIGGER, "2026-05-01T10:00:00Z");

    assertThat(second).isNotEqualTo(first);
    assertThat(again).isEqualTo(first);
    awaitStarted(2);
    assertThat(startedIds).containsExactly(first, second);
  }

  @Test
  void aStartWithoutAScheduleIsRefused() {
    ScheduledDagRunWorkflow firing = client.newWorkflowStub(ScheduledDagRunWorkflow.class,
        WorkflowOptions.newBuilder().setWorkflowId("scheduled:by-hand").setTaskQueue(TASK_QUEUE).build());
    assertThatThrownBy(() -> firing.run(new ScheduledDagRunRequest("etl", HOURLY_TRIGGER)))
        .isInstanceOf(WorkflowFailedException.class)
        .rootCause().isInstanceOf(ApplicationFailure.class)
        .hasMessageContaining("started without the TemporalScheduledStartTime search attribute");
    assertThat(startedIds).isEmpty();
  }

  @Test
  void theHistoryReplays() throws Exception {
    fire("scheduled:etl-1", "etl", HOURLY_DATA_INTERVAL, "2026-05-01T10:00:00Z");
    fire("scheduled:etl-1-again", "etl", HOURLY_DATA_INTERVAL, "2026-05-01T10:00:00Z");
    for (String workflowId : List.of("scheduled:etl-1", "scheduled:etl-1-again")) {
      try (TestWorkflowEnvironment replayEnv = WireTestEnvironment.newInstance()) {
        WorkflowReplayer.replayWorkflowExecution(client.fetchHistory(workflowId), replayEnv,
            ScheduledDagRunWorkflowImpl.class);
      }
    }
  }

  /** Starts the firing workflow as a schedule does: with the firing's time in its search attributes. */
  /**
   * A firing completes once its child has started; the child's own first step (which records it
   * here) runs on another workflow thread right after.
   */
  private static void awaitStarted(int count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (startedIds.size() < count && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private String fire(String workflowId, String dagId, DagSchedule schedule, String scheduledTime) {
    ScheduledDagRunWorkflow firing = client.newWorkflowStub(ScheduledDagRunWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(TASK_QUEUE)
        .setTypedSearchAttributes(SearchAttributes.newBuilder()
            .set(ScheduledDagRunWorkflowImpl.SCHEDULED_START_TIME, OffsetDateTime.parse(scheduledTime))
            .build())
        .build());
    return firing.run(new ScheduledDagRunRequest(dagId, schedule));
  }

}
