package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.workflows.WireDataConverter;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Histories recorded from real runs (the local stack, Temporal dev server, TemporalExecutor; the
 * Execution API token scrubbed) must replay on today's workflow code: a change that breaks this
 * would break DagRun workflows in flight during a deploy. Record a new one with
 * {@code temporal workflow show -w <id> --output json} when the workflow gains a new path.
 */
class RecordedHistoriesReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {"histories/executor-mode-three-task-chain.json"})
  void recordedHistoryReplaysOnTheCurrentWorkflowCode(String resource) throws Exception {
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setDataConverter(WireDataConverter.create()).build())
        .build())) {
      WorkflowReplayer.replayWorkflowExecutionFromResource(resource, env, DagRunWorkflowImpl.class);
    }
  }
}
