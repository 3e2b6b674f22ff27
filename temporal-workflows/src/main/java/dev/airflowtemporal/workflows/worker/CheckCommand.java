package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Run the worker's startup checks (options, Python runner, runner server, metadata DB schema, Temporal) and exit.")
final class CheckCommand implements Callable<Integer> {
  @Mixin
  WorkerSettings settings;

  @Override
  public Integer call() {
    StartupChecks.options(settings);
    StartupChecks.pythonRunner(settings);
    PreforkRunnerServer runnerServer = StartupChecks.runnerServer(settings);
    if (runnerServer != null) {
      runnerServer.close();
    }
    StartupChecks.database(settings, 1).close();
    StartupChecks.temporal(StartupChecks.temporalProfile(settings.temporal)).shutdownNow();
    System.out.println("ok: Python runner" + (runnerServer != null ? " and runner server" : "")
        + ", Airflow metadata DB and Temporal are usable");
    return 0;
  }
}
