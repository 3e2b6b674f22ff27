package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Run the worker's startup checks (options, Python runner, runner server, metadata DB schema, "
        + "Temporal), then its readiness checks (the verdict of the worker's /readyz), and exit: 0 ready, "
        + "1 not ready, 2 a startup check failed.")
final class CheckCommand implements Callable<Integer> {
  @Mixin
  WorkerSettings settings;

  @Override
  public Integer call() {
    StartupChecks.options(settings);
    StartupChecks.pythonRunner(settings);
    PreforkRunnerServer runnerServer = StartupChecks.runnerServer(settings);
    AirflowDatabase database = null;
    WorkflowServiceStubs service = null;
    try {
      database = StartupChecks.database(settings, 1);
      ClientConfigProfile profile = StartupChecks.temporalProfile(settings.temporal);
      service = StartupChecks.temporal(profile);
      try (Readiness readiness = Readiness.of(service, profile, database, runnerServer, null, null)) {
        Readiness.Verdict verdict = readiness.evaluate();
        System.out.print(verdict.text());
        return verdict.ready() ? 0 : 1;
      }
    } finally {
      if (service != null) {
        service.shutdownNow();
      }
      if (database != null) {
        database.close();
      }
      if (runnerServer != null) {
        runnerServer.close();
      }
    }
  }
}
