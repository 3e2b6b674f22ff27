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
      // Submitted under Airflow's pre-assigned external_executor_id; the scheduler was killed mid-attempt
      // and its successor adopted the attempt and acknowledged the outcome.
      "histories/executor-mode-scheduler-killed-mid-attempt.json",
      "histories/owned-mode-retries-and-failure.json",
      "histories/owned-mode-mapped-task.json",
      // A task mapped over a mapped task's output, and a mapped TaskGroup one of whose instances failed
      // (examples/dags/e2e_diff_mapped_nested.py, from the differential e2e test's stack).
      "histories/owned-mode-nested-mapping.json",
      "histories/owned-mode-branch.json",
      "histories/owned-mode-resumed-after-clear.json",
      "histories/owned-mode-cleared-while-running.json",
      // The worker was killed -9 mid-attempt: both tries' activities timed out on their heartbeat, the
      // workflow asked the dead worker process for their runners, nobody answered, and they were lost.
      "histories/executor-mode-worker-killed-runner-unclaimed.json",
      "histories/owned-mode-worker-killed-runner-unclaimed.json",
      "histories/owned-mode-try-stuck-in-queued.json",
      // A sensor in reschedule mode: its first queueing revoked as stuck in queued (a cold worker), then three
      // pokes at try 1, each a new queueing (external executor id) accepted under the queueing-identity version.
      "histories/executor-mode-reschedule-sensor.json",
      // A reschedule sensor poking at one try on durable timers, one timing out into soft_fail's skip.
      "histories/owned-mode-reschedule-sensor.json",
      // Deferrals: resumed tries queued at the same try after the workflow read them back, one ended by its trigger.
      "histories/owned-mode-deferred-tasks.json",
      // An ApprovalOperator awaiting input, answered through the REST API; the sweep signalled the resumption.
      "histories/owned-mode-human-in-the-loop.json",
      // e2e_owned_dag_limits (then quick -> long_sleep -> after, 30 s) past its dagrun_timeout (the getVersion
      // marker, the deadline timer, time_out_dag_run) while long_sleep ran; the workflow ended once that try,
      // stopped, had settled.
      "histories/owned-mode-dagrun-timeout.json",
      // e2e_diff_start_from_trigger (the corpus): three sensors with start_from_trigger deferred at their start by
      // defer_attempts under the start-from-trigger version, two resumed onto a worker, one timed out by its
      // execution_timeout through check_trigger_timeouts into soft_fail's skip.
      "histories/owned-mode-start-from-trigger.json",
  })
  void recordedHistoryReplaysOnTheCurrentWorkflowCode(String resource) throws Exception {
    try (TestWorkflowEnvironment env = WireTestEnvironment.newInstance()) {
      WorkflowReplayer.replayWorkflowExecutionFromResource(resource, env, DagRunWorkflowImpl.class,
          OwnedDagRunWorkflowImpl.class);
    }
  }
}
