package dev.airflowtemporal.workflows.task;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How this worker host starts Airflow task runners.
 *
 * @param command the runner command without the workload argument, normally
 *     {@code [python, -m, airflow.sdk.execution_time.execute_workload]}
 * @param ownedCommand the same for Temporal-owned runs, whose workloads come without a token:
 *     {@code [python, -m, airflow_temporal.worker.task_runner]}
 * @param logFolder Airflow's {@code [logging] base_log_folder}: where a runner that could not start
 *     gets its reason written, so the Airflow UI shows it in the task's log
 * @param heartbeatInterval how often the activity heartbeats while the runner lives
 * @param killGracePeriod how long a cancelled runner gets between SIGTERM and SIGKILL
 * @param runnerServer the pre-forked runner that forks runners instead of spawning them
 *     ({@code --runner prefork}), or null to spawn every runner ({@code --runner spawn})
 * @param tokenMinter signs the Execution API token of each Temporal-owned try (null: owned tries
 *     cannot start)
 * @param reattachQueue the task queue only this worker process polls (see {@link RunnerWhereabouts})
 */
public record RunnerSettings(List<String> command, List<String> ownedCommand, Path logFolder, Duration heartbeatInterval,
    Duration killGracePeriod, PreforkRunnerServer runnerServer, ExecutionTokenMinter tokenMinter, String reattachQueue) {

  public static final String RUNNER_MODULE = "airflow.sdk.execution_time.execute_workload";
  public static final String OWNED_RUNNER_MODULE = "airflow_temporal.worker.task_runner";

  public static RunnerSettings forPython(String python, Path logFolder, PreforkRunnerServer runnerServer,
      String reattachQueue) {
    return new RunnerSettings(List.of(python, "-m", RUNNER_MODULE), List.of(python, "-m", OWNED_RUNNER_MODULE), logFolder,
        Duration.ofSeconds(5), Duration.ofSeconds(10), runnerServer, ExecutionTokenMinter.forPython(python),
        reattachQueue);
  }
}
