package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.task.RunnerEnvironment;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker host's task log server, {@code python -m airflow_temporal.worker.log_server}: Airflow's own
 * worker log server (what {@code airflow celery worker} starts unless {@code --skip-serve-logs}), from
 * which the api-server reads the logs of tries this host ran. It runs with the task runners'
 * environment plus {@code [api] secret_key}, which checks the api-server's signed requests; it never
 * sees the DB URL, the JWT secret or Temporal's credentials. It exits with the worker.
 */
final class WorkerLogServer implements AutoCloseable {
  static final String MODULE = "airflow_temporal.worker.log_server";
  /** What it needs of the worker's credentials: the key the api-server signs log requests with. */
  private static final String SECRET_KEY = "AIRFLOW__API__SECRET_KEY";
  private static final String READY_PREFIX = "Serving task logs of ";
  /** Importing Airflow takes seconds, and much longer on a saturated host. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  private static final Logger log = LoggerFactory.getLogger(WorkerLogServer.class);

  private final Process process;
  private volatile boolean closing;

  private WorkerLogServer(Process process) {
    this.process = process;
  }

  /**
   * Starts the server and returns once it listens.
   *
   * @param host the address it listens on; empty or null for every interface
   * @throws StartupException when it cannot start (a port in use, an Airflow without the log server)
   */
  static WorkerLogServer start(String python, String host) throws InterruptedException {
    List<String> argv = new ArrayList<>(List.of(python, "-m", MODULE,
        "--worker-pid", String.valueOf(ProcessHandle.current().pid())));
    if (host != null && !host.isEmpty()) {
      argv.addAll(List.of("--host", host));
    }
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    environment(builder.environment(), System.getenv());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new StartupException("--serve-logs: cannot start " + argv + " (" + e.getMessage() + "): fix --python, "
          + "or run without a log server (--no-serve-logs)");
    }
    WorkerLogServer server = new WorkerLogServer(process);
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread output = new Thread(() -> server.drain(ready), "log-server-output");
    output.setDaemon(true);
    output.start();
    try {
      ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      log.info("Task log server pid {} listens", process.pid());
      return server;
    } catch (ExecutionException | TimeoutException e) {
      server.close();
      String reason = e instanceof TimeoutException ? "it did not listen within " + START_TIMEOUT.toSeconds() + " s"
          : e.getCause().getMessage();
      throw new StartupException("--serve-logs: the task log server (python -m " + MODULE + ") did not start: "
          + reason + "; or run without it (--no-serve-logs, AIRFLOW_TEMPORAL_SERVE_LOGS=false) if the api-server "
          + "reads task logs from a shared folder or remote logging");
    }
  }

  /** The task runners' environment (the worker's, scrubbed) with {@code [api] secret_key} put back. */
  static void environment(Map<String, String> env, Map<String, String> workerEnv) {
    RunnerEnvironment.scrub(env);
    for (String name : List.of(SECRET_KEY, SECRET_KEY + "_CMD", SECRET_KEY + "_SECRET")) {
      if (workerEnv.containsKey(name)) {
        env.put(name, workerEnv.get(name));
      }
    }
  }

  /** Logs what it prints; completes ready with its start line, or exceptionally if it exits first. */
  private void drain(CompletableFuture<String> ready) {
    String last = "";
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        log.info("log server: {}", line);
        if (line.startsWith(READY_PREFIX)) {
          ready.complete(line);
        }
        if (!line.isBlank()) {
          last = line.strip();
        }
      }
    } catch (IOException e) {
      // it has gone
    }
    if (!ready.isDone()) {
      ready.completeExceptionally(new IllegalStateException("it exited" + (last.isEmpty() ? "" : ": " + last)));
    } else if (!closing) {
      log.warn("The task log server stopped ({}): the api-server cannot read the logs of this host's tries until "
          + "the worker is restarted", last);
    }
  }

  @Override
  public void close() {
    closing = true;
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
