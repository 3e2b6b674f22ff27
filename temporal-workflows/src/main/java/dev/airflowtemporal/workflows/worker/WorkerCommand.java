package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.ClearedRunsWorker;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.ScheduleWorker;
import dev.airflowtemporal.workflows.cleared.ClearedRunsSweepSettings;
import dev.airflowtemporal.workflows.owned.DagRunListeners;
import dev.airflowtemporal.workflows.owned.DagRunSyncActivitiesImpl;
import dev.airflowtemporal.workflows.owned.ParamsCheck;
import dev.airflowtemporal.workflows.schedule.ScheduleSyncSettings;
import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import dev.airflowtemporal.core.TaskQueues;
import dev.airflowtemporal.workflows.task.LiveRunners;
import dev.airflowtemporal.workflows.task.RunnerSettings;
import dev.airflowtemporal.workflows.metrics.OwnedRunsCount;
import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.RootScopeBuilder;
import com.uber.m3.tally.Scope;
import com.uber.m3.tally.ScopeCloseException;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.temporal.common.reporter.MicrometerClientStatsReporter;
import io.temporal.client.WorkflowClient;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Check the configuration, then run DagRun workflows and Airflow task attempts until SIGTERM/Ctrl-C.")
final class WorkerCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(WorkerCommand.class);
  /** The sync steps of Temporal-owned runs are short transactions; a few connections serve many runs. */
  private static final int DB_POOL_SIZE = 4;
  /** How often the SDK's tally scope hands its metrics to Micrometer (what a scrape sees lags by this). */
  private static final com.uber.m3.util.Duration SDK_METRICS_INTERVAL = com.uber.m3.util.Duration.ofSeconds(10);

  @Mixin
  WorkerSettings settings;

  @Override
  public Integer call() throws InterruptedException {
    StartupChecks.options(settings);
    StartupChecks.pythonRunner(settings);
    PrometheusMeterRegistry registry = settings.metricsPort == 0 ? null
        : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Scope sdkMetrics = registry == null ? new NoopScope() : new RootScopeBuilder()
        .reporter(new MicrometerClientStatsReporter(registry))
        .reportEvery(SDK_METRICS_INTERVAL);
    CompletableFuture<PreforkRunnerServer> runnerServerStart = StartupChecks.startRunnerServer(settings);
    WorkerLogServer logServer;
    AirflowDatabase database;
    ClientConfigProfile profile;
    WorkflowServiceStubs service;
    try {
      logServer = settings.serveLogs ? WorkerLogServer.start(settings.python, settings.logServerHost) : null;
      database = StartupChecks.database(settings, DB_POOL_SIZE);
      profile = StartupChecks.temporalProfile(settings.temporal);
      service = StartupChecks.temporal(profile, sdkMetrics);
    } catch (RuntimeException e) {
      StartupChecks.closeWhenStarted(runnerServerStart);
      throw e;
    }
    PreforkRunnerServer runnerServer = StartupChecks.awaitRunnerServer(runnerServerStart);

    WorkflowClient client = settings.temporal.client(service, profile);
    WorkerFactory factory = WorkerFactory.newInstance(client);
    String reattachQueue = TaskQueues.forWorkerProcess(settings.temporal.taskQueue, UUID.randomUUID().toString());
    RunnerSettings runnerSettings = RunnerSettings.forPython(settings.python, settings.resolvedLogFolder(), runnerServer,
        reattachQueue);
    LiveRunners liveRunners = LiveRunners.forSettings(runnerSettings);
    WorkerMetrics metrics = registry == null ? WorkerMetrics.none()
        : new WorkerMetrics(registry, settings.temporal.taskQueue);
    metrics.runnersAlive(liveRunners::size);
    DagRunListeners dagRunListeners = DagRunListeners.forPython(settings.python);
    ParamsCheck paramsCheck = ParamsCheck.forPython(settings.python);
    DagRunWorker.register(factory, settings.temporal.taskQueue, settings.queues, runnerSettings,
        settings.maxConcurrentTasks, database, new DagRunSyncActivitiesImpl.PythonSteps(
            paramsCheck, dagRunListeners), StartupChecks.fernetKeys(), settings.taskQueuedTimeout(),
        liveRunners, metrics);
    ScheduleWorker.register(factory, settings.temporal.taskQueue, database);
    ClearedRunsWorker.register(factory, settings.temporal.taskQueue, database, metrics);
    OwnedRunsCount ownedRuns = registry == null ? null
        : OwnedRunsCount.start(service, profile.getNamespace(), metrics);
    Readiness readiness = Readiness.of(service, profile, database, runnerServer, factory, logServer);
    HealthServer health = registry == null ? null
        : HealthServer.start(settings.metricsHost, settings.metricsPort, registry, readiness);

    CountDownLatch stopped = new CountDownLatch(1);
    Duration grace = Duration.ofSeconds(settings.shutdownGraceSeconds);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // A rolling deploy: other workers take new attempts and workflow tasks while ours finish here.
      log.info("Draining: polling stopped; running attempts get up to {} s (--shutdown-grace), then their runners "
          + "are killed", grace.toSeconds());
      factory.shutdown();
      factory.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
      if (!factory.isTerminated()) {
        log.warn("Attempts still running after the {} s shutdown grace: stopping their runners", grace.toSeconds());
      }
      factory.shutdownNow();
      factory.awaitTermination(20, TimeUnit.SECONDS);
      liveRunners.close();
      if (health != null) {
        health.close();
        ownedRuns.close();
      }
      readiness.close();
      try {
        sdkMetrics.close();
      } catch (ScopeCloseException e) {
        log.warn("Closing the SDK metrics scope: {}", e.toString());
      }
      service.shutdown();
      dagRunListeners.close();
      paramsCheck.close();
      if (runnerSettings.tokenMinter() != null) {
        runnerSettings.tokenMinter().close();
      }
      database.close();
      if (runnerServer != null) {
        runnerServer.close();
      }
      if (logServer != null) {
        logServer.close(); // last: the logs of draining attempts stay readable until they end
      }
      stopped.countDown();
    }, "worker-shutdown"));
    factory.start();
    if (settings.schedules) {
      // An empty AIRFLOW__TEMPORAL__SCHEDULED_DAGS splits into one blank name.
      List<String> scheduledDags = settings.scheduledDags.stream().filter(id -> !id.isBlank()).toList();
      ScheduleWorker.startSync(client, settings.temporal.taskQueue, new ScheduleSyncSettings(settings.scheduleTag,
          scheduledDags, Duration.ofSeconds(settings.scheduleSyncIntervalSeconds)));
      log.info("Schedule sync on: tag '{}', dags {}, every {} s", settings.scheduleTag, scheduledDags,
          settings.scheduleSyncIntervalSeconds);
    }
    if (settings.resumeClearedRuns) {
      ClearedRunsWorker.startSweep(client, settings.temporal.taskQueue,
          new ClearedRunsSweepSettings(Duration.ofSeconds(settings.clearedRunsSweepIntervalSeconds)));
      log.info("Cleared-runs sweep on: Temporal-owned runs cleared in Airflow are resumed (every {} s)",
          settings.clearedRunsSweepIntervalSeconds);
    } else if (ClearedRunsWorker.stopSweep(client)) {
      log.info("Cleared-runs sweep stopped (--no-resume-cleared-runs): cleared Temporal-owned runs stay queued");
    }
    log.info("Worker started: namespace={} address={} task queue={} airflow queues={} python={} runner={}",
        profile.getNamespace(), profile.getAddress(), settings.temporal.taskQueue, settings.queues, settings.python,
        settings.runner);
    stopped.await();
    return 0;
  }
}
