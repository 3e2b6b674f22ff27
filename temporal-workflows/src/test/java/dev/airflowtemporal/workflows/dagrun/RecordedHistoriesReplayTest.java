package dev.airflowtemporal.workflows.dagrun;

import dev.airflowtemporal.workflows.WireTestEnvironment;
import dev.airflowtemporal.workflows.owned.OwnedDagRunWorkflowImpl;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Histories recorded from real runs (the local stack, Temporal dev server; executor mode with the
 * Execution API token scrubbed, Temporal-owned mode as recorded — its payloads carry no token) must
 * replay on today's workflow code: a change that breaks this would break DagRun workflows in flight
 * during a deploy. Record a new one with {@code temporal workflow show -w <id> --output json} when a
 * workflow gains a new path.
 */
class RecordedHistoriesReplayTest {
  @ParameterizedTest
  @ValueSource(strings = {
      "histories/executor-mode-three-task-chain.json",
      "histories/owned-mode-retries-and-failure.json",
      "histories/owned-mode-mapped-task.json",
      "histories/owned-mode-branch.json",
      "histories/owned-mode-resumed-after-clear.json",
      "histories/owned-mode-cleared-while-running.json",
      "histories/owned-mode-try-stuck-in-queued.json",
  })
  void recordedHistoryReplaysOnTheCurrentWorkflowCode(String resource) throws Exception {
    try (TestWorkflowEnvironment env = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecutionFromResource(resource, env, DagRunWorkflowImpl.class,
          OwnedDagRunWorkflowImpl.class);
    }
  }
}
