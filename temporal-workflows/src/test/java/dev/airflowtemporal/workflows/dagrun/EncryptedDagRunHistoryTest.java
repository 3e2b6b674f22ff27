package dev.airflowtemporal.workflows.dagrun;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.DagRunProgress;
import dev.airflowtemporal.core.wire.DagRunWorkflowInput;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.core.wire.TaskOutcome;
import dev.airflowtemporal.core.wire.TaskSubmission;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.WireDataConverter;
import dev.airflowtemporal.workflows.codec.CodecKeys;
import dev.airflowtemporal.workflows.task.RunnerWhereabouts;
import dev.airflowtemporal.workflows.task.TaskActivities;
import dev.airflowtemporal.workflows.task.TaskAttempt;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * With the payload codec on, a DagRun's history holds neither the workload's token nor a runner's
 * output tail nor a failure message, while the workflow and its clients read them as usual; with it
 * off (the control), all three are there in clear. A worker lacking the key fails no run.
 */
class EncryptedDagRunHistoryTest {
  private static final String DAG = "etl";
  private static final String RUN = "manual__2026-12-02T05:00:00+00:00";
  private static final String TOKEN = "workload-token-4b1d9e";
  private static final String TAIL_SECRET = "tail-secret-77c0a2";
  private static final String FAILURE_SECRET = "failure-secret-1f8e33";
  private static final CodecKeys KEYS = CodecKeys.parse("aSyErLklIqhHjrEQZwBTJgh7qSY9FhP0beG1kmh1Vgs=");

  @Test
  void withTheCodecTheHistoryHoldsNoTokenTailOrFailureMessageYetTheRunReadsThem() {
    byte[] history = runAndFetchHistory(Optional.of(KEYS));
    for (String secret : List.of(TOKEN, TAIL_SECRET, FAILURE_SECRET)) {
      assertThat(contains(history, secret)).as(secret).isFalse();
      assertThat(contains(history, Base64.getEncoder().encodeToString(secret.getBytes(StandardCharsets.UTF_8))))
          .as("base64 of " + secret).isFalse();
    }
    assertThat(contains(history, "binary/encrypted")).isTrue();
  }

  @Test
  void withoutTheCodecTheSameHistoryHoldsAllThreeInClear() {
    byte[] history = runAndFetchHistory(Optional.empty());
    for (String secret : List.of(TOKEN, TAIL_SECRET, FAILURE_SECRET)) {
      assertThat(contains(history, secret)).as(secret).isTrue();
    }
  }

  @Test
  void aWorkerWithoutTheKeyOfAPayloadLeavesTheRunOpenAndRetryingInsteadOfFailingIt() {
    CodecKeys otherKey = CodecKeys.parse("fbAqlenWs+91ovvfB1hv5BESDjtdrIPFeF2QmCzMX7I=");
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder()
            .setDataConverter(WireDataConverter.create(Optional.of(otherKey))).build())
        .build());
    try {
      Worker worker = env.newWorker("airflow");
      worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, DagRunWorkflowImpl.class);
      worker.registerActivitiesImplementations(new SecretSpillingActivities());
      env.start();
      WorkflowClient executor = WorkflowClient.newInstance(env.getWorkflowServiceStubs(), WorkflowClientOptions.newBuilder()
          .setNamespace(env.getNamespace()).setDataConverter(WireDataConverter.create(Optional.of(KEYS))).build());
      String workflowId = WorkflowIds.forDagRun(DAG, RUN);
      DagRunWorkflow run = executor.newWorkflowStub(DagRunWorkflow.class,
          WorkflowOptions.newBuilder().setWorkflowId(workflowId).setTaskQueue("airflow").build());
      BatchRequest request = executor.newSignalWithStartRequest();
      request.add(run::run, new DagRunWorkflowInput(ContractVersion.CURRENT, DAG, RUN, 60L, null, List.of(), List.of(), 0L));
      request.add(run::submitTask, submission("tails"));
      executor.signalWithStart(request);

      HistoryEvent failedTask = awaitEvent(executor, workflowId, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
      // The worker's own failure report is encrypted with the worker's key, like every failure message.
      assertThat(failedTask.getWorkflowTaskFailedEventAttributes().getFailure().getMessage()).isEqualTo("Encoded failure");
      assertThat(WireDataConverter.create(Optional.of(otherKey))
          .failureToException(failedTask.getWorkflowTaskFailedEventAttributes().getFailure()))
          .hasStackTraceContaining("codec key '" + KEYS.currentId() + "', which is not configured");
      assertThat(executor.fetchHistory(workflowId).getEvents()).extracting(HistoryEvent::getEventType)
          .doesNotContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    } finally {
      env.close();
    }
  }

  private static HistoryEvent awaitEvent(WorkflowClient client, String workflowId, EventType type) {
    for (int i = 0; i < 600; i++) {
      var found = client.fetchHistory(workflowId).getEvents().stream().filter(e -> e.getEventType() == type).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      sleep(50);
    }
    throw new AssertionError(type + " not recorded within 30 s");
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs two attempts (one fails with an output tail, one throws) and returns the serialized history. */
  private static byte[] runAndFetchHistory(Optional<CodecKeys> keys) {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setDataConverter(WireDataConverter.create(keys)).build())
        .build());
    try {
      Worker worker = env.newWorker("airflow");
      worker.registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, DagRunWorkflowImpl.class);
      worker.registerActivitiesImplementations(new SecretSpillingActivities());
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      String workflowId = WorkflowIds.forDagRun(DAG, RUN);
      DagRunWorkflow run = client.newWorkflowStub(DagRunWorkflow.class,
          WorkflowOptions.newBuilder().setWorkflowId(workflowId).setTaskQueue("airflow").build());
      BatchRequest request = client.newSignalWithStartRequest();
      request.add(run::run, new DagRunWorkflowInput(ContractVersion.CURRENT, DAG, RUN, 60L, null, List.of(), List.of(), 0L));
      request.add(run::submitTask, submission("tails"));
      client.signalWithStart(request);
      run.submitTask(submission("throws"));

      DagRunProgress progress = awaitTwoOutcomes(run);
      // The workflow and this client decrypt what the history hides.
      assertThat(progress.outcomes()).extracting(TaskOutcome::outputTail).contains("Traceback: " + TAIL_SECRET);
      assertThat(progress.outcomes()).extracting(TaskOutcome::reason).anySatisfy(r -> assertThat(r).contains(FAILURE_SECRET));
      return client.fetchHistory(workflowId).getHistory().toByteArray();
    } finally {
      env.close();
    }
  }

  private static DagRunProgress awaitTwoOutcomes(DagRunWorkflow run) {
    for (int i = 0; i < 600; i++) {
      DagRunProgress progress = run.progress(0);
      if (progress.outcomes().size() >= 2) {
        return progress;
      }
      sleep(50);
    }
    throw new AssertionError("two outcomes not reported within 30 s");
  }

  private static TaskSubmission submission(String taskId) {
    var workload = JsonNodeFactory.instance.objectNode().put("type", "ExecuteTask").put("log_path", "x.log")
        .put("token", TOKEN);
    return new TaskSubmission(ContractVersion.CURRENT, DAG, RUN, new AttemptKey(taskId, -1, 1), "ti-" + taskId, null, 1,
        OffsetDateTime.now(), workload, "queued-" + taskId);
  }

  private static boolean contains(byte[] haystack, String needle) {
    return new String(haystack, StandardCharsets.ISO_8859_1).contains(needle);
  }

  /** "tails" fails with the secret in its output tail; "throws" fails the activity with it in the message. */
  static final class SecretSpillingActivities implements TaskActivities {
    @Override
    public TaskAttemptResult runTask(TaskAttempt attempt) {
      assertThat(attempt.workload().get("token").asText()).isEqualTo(TOKEN);
      if (attempt.attempt().taskId().equals("throws")) {
        throw ApplicationFailure.newNonRetryableFailure("runner could not start: " + FAILURE_SECRET, "RunnerFailed");
      }
      return new TaskAttemptResult(1, "the Airflow task runner exited with code 1", "Traceback: " + TAIL_SECRET);
    }

    @Override
    public TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload) {
      throw new UnsupportedOperationException("owned runs are not used in executor mode");
    }

    @Override
    public TaskAttemptResult reattachTask(RunnerWhereabouts whereabouts) {
      throw new UnsupportedOperationException("these runners never outlive their activity");
    }
  }
}
