package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.DatabaseUnavailableException;
import dev.airflowtemporal.dbsync.DatabaseUrl;
import dev.airflowtemporal.dbsync.FernetKeys;
import dev.airflowtemporal.dbsync.UnsupportedSchemaException;
import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import dev.airflowtemporal.workflows.task.RunnerServerUnavailableException;
import dev.airflowtemporal.workflows.task.RunnerSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.envconfig.LoadClientConfigProfileOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import com.uber.m3.tally.NoopScope;
import com.uber.m3.tally.Scope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the worker verifies before it polls a single task, each failure naming the setting to fix:
 * the options, the Python runner (and the runner server with {@code --runner prefork}), Airflow's
 * metadata DB and its schema, and the Temporal namespace.
 */
final class StartupChecks {
  private static final Logger log = LoggerFactory.getLogger(StartupChecks.class);
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private StartupChecks() {}

  static void options(WorkerSettings settings) {
    if (settings.temporal.taskQueue == null || settings.temporal.taskQueue.isBlank()) {
      throw new StartupException("--task-queue is empty: set it to [temporal] task_queue of airflow.cfg");
    }
    if (settings.queues == null || settings.queues.isEmpty() || settings.queues.stream().anyMatch(String::isBlank)) {
      throw new StartupException("--queues needs one or more Airflow queue names, e.g. --queues default,gpu");
    }
    if (settings.maxConcurrentTasks < 1) {
      throw new StartupException("--max-concurrent-tasks must be at least 1 but was " + settings.maxConcurrentTasks);
    }
    if (settings.shutdownGraceSeconds < 0) {
      throw new StartupException("--shutdown-grace must be 0 or more seconds but was " + settings.shutdownGraceSeconds);
    }
    if (settings.scheduleSyncIntervalSeconds < 1) {
      throw new StartupException("--schedule-sync-interval must be at least 1 second but was "
          + settings.scheduleSyncIntervalSeconds);
    }
    if (settings.clearedRunsSweepIntervalSeconds < 1) {
      throw new StartupException("--cleared-runs-sweep-interval must be at least 1 second but was "
          + settings.clearedRunsSweepIntervalSeconds);
    }
    if (!(settings.taskQueuedTimeoutSeconds >= 1)) {
      throw new StartupException("--task-queued-timeout (AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT) must be at least "
          + "1 second but was " + settings.taskQueuedTimeoutSeconds + ": set it to [scheduler] task_queued_timeout");
    }
    if (settings.metricsPort < 0 || settings.metricsPort > 65535) {
      throw new StartupException("--metrics-port (AIRFLOW__TEMPORAL__METRICS_PORT) must be a TCP port (1-65535), "
          + "or 0 for no metrics endpoint, but was " + settings.metricsPort);
    }
    settings.temporal.codec.keys().ifPresentOrElse(
        keys -> log.info("Payload codec on: AES-256-GCM, encrypting with key {}, decrypting with keys {}",
            keys.currentId(), keys.ids()),
        () -> log.info("Payload codec off: payloads are stored in Temporal in clear (set {} or {} to encrypt them)",
            CodecKeyOptions.KEY_FILE_ENV, CodecKeyOptions.KEY_ENV));
  }

  static void pythonRunner(WorkerSettings settings) {
    // Executor mode runs Airflow's runner; Temporal-owned runs ours, which also needs airflow-temporal installed.
    List<String> command = List.of(settings.python, "-c",
        "import " + RunnerSettings.RUNNER_MODULE + ", " + RunnerSettings.OWNED_RUNNER_MODULE);
    String problem;
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        problem = "importing the task runner took over 120 s";
      } else if (process.exitValue() != 0) {
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String[] lines = output.split("\n");
        problem = lines[lines.length - 1];
      } else {
        return;
      }
    } catch (IOException e) {
      problem = e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StartupException("interrupted while checking --python");
    }
    throw new StartupException("--python '" + settings.python + "' cannot run Airflow's task runner ("
        + problem + "): point --python or AIRFLOW_TEMPORAL_PYTHON at the interpreter of the Airflow 3.3 installation "
        + "that has airflow-temporal installed");
  }

  /**
   * With {@code --runner prefork}, starts the runner server and waits until it answers (the caller
   * closes it); null with {@code --runner spawn}.
   */
  static PreforkRunnerServer runnerServer(WorkerSettings settings) {
    if (settings.runner == WorkerSettings.RunnerMode.spawn) {
      return null;
    }
    PreforkRunnerServer server = PreforkRunnerServer.forPython(settings.python);
    try {
      server.start();
      return server;
    } catch (RunnerServerUnavailableException e) {
      server.close();
      throw new StartupException("--runner prefork: the runner server (python -m " + PreforkRunnerServer.MODULE
          + ") did not start: " + e.getMessage() + "; fix --python, or use --runner spawn (AIRFLOW_TEMPORAL_RUNNER=spawn)");
    } catch (InterruptedException e) {
      server.close();
      Thread.currentThread().interrupt();
      throw new StartupException("interrupted while starting the runner server");
    }
  }

  /**
   * Starts {@link #runnerServer} on another thread: its Python imports Airflow (10 s and more on a loaded
   * host) while the caller checks the DB and Temporal, so that a restarted worker polls again sooner, and
   * the attempts a killed worker held are decided sooner.
   */
  static CompletableFuture<PreforkRunnerServer> startRunnerServer(WorkerSettings settings) {
    return CompletableFuture.supplyAsync(() -> runnerServer(settings));
  }

  /** The server {@link #startRunnerServer} started, once it answers; its {@link StartupException} as it came. */
  static PreforkRunnerServer awaitRunnerServer(CompletableFuture<PreforkRunnerServer> starting) {
    try {
      return starting.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /** After another check failed: closes the server once its start has ended, so that it does not outlive the worker. */
  static void closeWhenStarted(CompletableFuture<PreforkRunnerServer> starting) {
    try {
      PreforkRunnerServer server = starting.join();
      if (server != null) {
        server.close();
      }
    } catch (CompletionException e) {
      // It did not start either: nothing to close, and the other check's failure is the one reported.
    }
  }

  /**
   * Airflow's {@code [core] fernet_key}, from the worker's environment as the DB URL is (never a flag: the key
   * would show in the process list); the runners' environments never get it ({@code RunnerEnvironment}).
   */
  static FernetKeys fernetKeys() {
    try {
      FernetKeys keys = FernetKeys.fromEnvironment(System.getenv());
      log.info("Trigger kwargs of tasks that start in the triggerer: {}", keys);
      return keys;
    } catch (IllegalArgumentException e) {
      throw new StartupException(FernetKeys.ENVIRONMENT_VARIABLE + ": " + e.getMessage());
    }
  }

  /** Opens Airflow's DB after checking its schema; the caller closes it. */
  static AirflowDatabase database(WorkerSettings settings, int poolSize) {
    DatabaseUrl url;
    try {
      url = DatabaseUrl.parse(settings.dbUrl);
    } catch (IllegalArgumentException e) {
      throw new StartupException("--db-url: " + e.getMessage());
    }
    try {
      AirflowDatabase database = AirflowDatabase.open(url, poolSize);
      log.info("Airflow metadata DB {} is at alembic {}", url, database.alembicHeads());
      return database;
    } catch (DatabaseUnavailableException | UnsupportedSchemaException e) {
      throw new StartupException(e.getMessage());
    }
  }

  static ClientConfigProfile temporalProfile(TemporalOptions settings) {
    ClientConfigProfile profile;
    try {
      LoadClientConfigProfileOptions.Builder options = LoadClientConfigProfileOptions.newBuilder();
      if (settings.profile != null) {
        options.setConfigFileProfile(settings.profile);
      }
      profile = ClientConfigProfile.load(options.build());
    } catch (IOException | RuntimeException e) {
      throw new StartupException("cannot load the Temporal client configuration (temporal.toml / TEMPORAL_* variables): "
          + e.getMessage());
    }
    ClientConfigProfile.Builder builder = profile.toBuilder();
    if (settings.address != null) builder.setAddress(settings.address);
    if (settings.namespace != null) builder.setNamespace(settings.namespace);
    if (profile.getAddress() == null && settings.address == null) builder.setAddress("localhost:7233");
    if (profile.getNamespace() == null && settings.namespace == null) builder.setNamespace("default");
    return builder.build();
  }

  static WorkflowServiceStubs temporal(ClientConfigProfile profile) {
    return temporal(profile, new NoopScope());
  }

  /** @param metricsScope where the SDK reports its metrics (a {@link NoopScope} for none) */
  static WorkflowServiceStubs temporal(ClientConfigProfile profile, Scope metricsScope) {
    WorkflowServiceStubs service;
    try {
      service = WorkflowServiceStubs.newConnectedServiceStubs(
          WorkflowServiceStubsOptions.newBuilder(profile.toWorkflowServiceStubsOptions())
              .setMetricsScope(metricsScope)
              .build(),
          CONNECT_TIMEOUT);
    } catch (RuntimeException e) {
      throw new StartupException("cannot reach Temporal at " + profile.getAddress() + " (" + rootMessage(e)
          + "): " + (untrustedServer(e)
              ? "the server's TLS certificate is not signed by a CA this worker trusts: point "
                  + "TEMPORAL_TLS_SERVER_CA_CERT_PATH (or the profile's server_ca_cert) at the CA that signed it"
              : "check --address / TEMPORAL_ADDRESS, TLS and API key settings, and that the server is up"));
    }
    try {
      requireNamespace(service, profile, CONNECT_TIMEOUT);
    } catch (StartupException e) {
      service.shutdownNow();
      throw e;
    }
    return service;
  }

  /** Whether Temporal answers for the namespace within {@code timeout}; also the readiness check's question. */
  static void requireNamespace(WorkflowServiceStubs service, ClientConfigProfile profile, Duration timeout) {
    try {
      service.blockingStub().withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace(profile.getNamespace()).build());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        throw new StartupException("Temporal namespace '" + profile.getNamespace() + "' does not exist at "
            + profile.getAddress() + ": create it (temporal operator namespace create " + profile.getNamespace()
            + ") or set --namespace / TEMPORAL_NAMESPACE");
      }
      throw new StartupException("cannot use Temporal namespace '" + profile.getNamespace() + "' at "
          + profile.getAddress() + ": " + e.getStatus());
    }
  }

  /** Whether the TLS handshake failed because no trusted CA signed the server's certificate. */
  private static boolean untrustedServer(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof CertPathBuilderException
          || cause instanceof CertPathValidatorException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    while (e.getCause() != null) {
      e = e.getCause();
    }
    return e.getMessage();
  }
}
