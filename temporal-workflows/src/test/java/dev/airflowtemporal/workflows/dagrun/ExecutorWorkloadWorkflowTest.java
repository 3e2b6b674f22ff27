package dev.airflowtemporal.workflows.dagrun;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OutcomeState;
import dev.airflowtemporal.core.wire.WireFixtures;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.core.wire.WorkloadOutcome;
import dev.airflowtemporal.core.wire.WorkloadRun;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.WireTestEnvironment;
import dev.airflowtemporal.workflows.task.TaskAttemptResult;
import dev.airflowtemporal.workflows.task.WorkloadActivities;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ExecutorWorkload workflow on Temporal's test server, with fake runners on each Airflow queue's task queue. */
class ExecutorWorkloadWorkflowTest {
  private static final String TASK_QUEUE = "airflow";
  private static final ObjectMapper JSON = WireJson.newMapper();

  private final List<String> ran = new CopyOnWriteArrayList<>();
  private volatile Function<WorkloadRun, TaskAttemptResult> runner = run -> new TaskAttemptResult(0, null, "ok");
  private TestWorkflowEnvironment env;

  /** A fake runner on one task queue: records which queue ran which workload. */
  private record Runner(String queue, List<String> ran, ExecutorWorkloadWorkflowTest test) implements WorkloadActivities {
    @Override
    public TaskAttemptResult runWorkload(WorkloadRun run) {
      ran.add(queue + ": " + run.label());
      return test.runner.apply(run);
    }
  }

  @BeforeEach
  void setUp() {
    env = WireTestEnvironment.newInstance();
    env.newWorker(TASK_QUEUE, DagRunWorker.workflowWorkerOptions().build())
        .registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS, ExecutorWorkloadWorkflowImpl.class);
    env.getWorkerFactory().getWorker(TASK_QUEUE).registerActivitiesImplementations(new Runner("default", ran, this));
    env.newWorker(TASK_QUEUE + ":special").registerActivitiesImplementations(new Runner("special", ran, this));
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private WorkloadOutcome run(WorkloadRun workload) {
    return env.getWorkflowClient().newWorkflowStub(ExecutorWorkloadWorkflow.class,
        WorkflowOptions.newBuilder().setWorkflowId("workload-" + ran.size() + "-" + System.nanoTime())
            .setTaskQueue(TASK_QUEUE).build()).run(workload);
  }

  private static WorkloadRun fixture(String name) throws Exception {
    return JSON.readValue(WireFixtures.read(name), WorkloadRun.class);
  }

  @Test
  void aCallbackRunsOnceOnTheDefaultQueueAndEndsAsItsRunnerDid() throws Exception {
    WorkloadOutcome outcome = run(fixture("workload_run_callback.json"));

    assertThat(ran).containsExactly("default: callback 0192f2a4-7c1e-7b11-8e2f-3a4b5c6d7e8f");
    assertThat(outcome).isEqualTo(new WorkloadOutcome(OutcomeState.SUCCESS, 0, null, "ok"));
  }

  @Test
  void aConnectionTestRunsOnTheTaskQueueOfItsAirflowQueue() throws Exception {
    WorkloadOutcome outcome = run(fixture("workload_run_connection_test.json"));

    assertThat(ran).containsExactly("special: connection test warehouse_db");
    assertThat(outcome.state()).isEqualTo(OutcomeState.SUCCESS);
  }

  @Test
  void aRunnerThatExitedNonZeroFailsTheWorkloadWithoutARetry() throws Exception {
    runner = run -> new TaskAttemptResult(1, null, "Traceback: boom");

    WorkloadOutcome outcome = run(fixture("workload_run_callback.json"));

    assertThat(ran).hasSize(1);
    assertThat(outcome).isEqualTo(new WorkloadOutcome(OutcomeState.FAILED, 1, null, "Traceback: boom"));
  }

  @Test
  void aRunnerThatCouldNotStartFailsTheWorkloadOnceNamingWhy() throws Exception {
    runner = run -> {
      throw ApplicationFailure.newFailure("cannot start the runner: python not found", "RunnerStartFailed");
    };

    WorkloadOutcome outcome = run(fixture("workload_run_callback.json"));

    assertThat(ran).as("Airflow does not retry a callback through its executor").hasSize(1);
    assertThat(outcome.state()).isEqualTo(OutcomeState.FAILED);
    assertThat(outcome.exitCode()).isNull();
    assertThat(outcome.reason()).contains("cannot start the runner: python not found");
  }

  @Test
  void aWorkloadOfAnotherTypeOrContractVersionFailsTheWorkflowNamingTheProblemAndRunsNothing() throws Exception {
    WorkloadRun task = new WorkloadRun(ContractVersion.CURRENT, null, JSON.readTree("{\"type\": \"ExecuteTask\"}"));
    WorkloadRun future = new WorkloadRun(ContractVersion.CURRENT + 1, null, fixture("workload_run_callback.json").workload());

    assertThatThrownBy(() -> run(task)).isInstanceOf(WorkflowFailedException.class)
        .rootCause().hasMessageContaining("ExecutorWorkload input refused: workload.type must be one of");
    assertThatThrownBy(() -> run(future)).isInstanceOf(WorkflowFailedException.class)
        .rootCause().hasMessageContaining("ExecutorWorkload input refused").hasMessageContaining("contract");
    assertThat(ran).isEmpty();
  }
}
