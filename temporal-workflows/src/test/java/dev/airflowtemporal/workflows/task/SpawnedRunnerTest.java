package dev.airflowtemporal.workflows.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SpawnedRunnerTest {
  private static final String WORKER_PID = String.valueOf(ProcessHandle.current().pid());

  @Test
  void theRunnerModulesRunThroughTheMaskerTiedToThisWorkerAndOtherCommandsAsTheyAre() {
    assertThat(SpawnedRunner.throughMasker(List.of("/venv/bin/python", "-m", RunnerSettings.RUNNER_MODULE, "--json-path", "F")))
        .containsExactly("/venv/bin/python", "-m", "airflow_temporal.worker.masked_output", "--worker-pid", WORKER_PID,
            RunnerSettings.RUNNER_MODULE, "--json-path", "F");
    assertThat(SpawnedRunner.throughMasker(List.of("python3", "-m", RunnerSettings.OWNED_RUNNER_MODULE, "--json-path", "F")))
        .containsExactly("python3", "-m", "airflow_temporal.worker.masked_output", "--worker-pid", WORKER_PID,
            RunnerSettings.OWNED_RUNNER_MODULE, "--json-path", "F");
    assertThat(SpawnedRunner.throughMasker(List.of("sh", "-c", "exit 3"))).containsExactly("sh", "-c", "exit 3");
  }
}
