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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker host's task log server, {@code python -m airflow_temporal.worker.log_server}: Airflow's own
 * worker log server (what {@code airflow celery worker} starts unless {@code --skip-serve-logs}), from
 * which the api-server reads the logs of tries this host ran. It runs with the task runners'
 * environment plus {@code [api] secret_key}, which checks the api-server's signed requests; it never
 * sees the DB URL, the JWT secret or Temporal's credentials. It exits with the worker. If it stops on
 * its own, the worker starts it again, as a service manager would, at most once per
 * {@link #RESTART_BACKOFF}; meanwhile {@link #problem()} says so to {@code /readyz}.
 */
final class WorkerLogServer implements AutoCloseable {
  static final String MODULE = "airflow_temporal.worker.log_server";
  /** What it needs of the worker's credentials: the key the api-server signs log requests with. */
  private static final String SECRET_KEY = "AIRFLOW__API__SECRET_KEY";
  private static final String READY_PREFIX = "Serving task logs of ";
  /** Importing Airflow takes seconds, and much longer on a saturated host. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  /** The least time between two starts: a server that cannot start (its port taken) is not retried in a loop. */
  static final Duration RESTART_BACKOFF = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(WorkerLogServer.class);

  private final List<String> argv;
  private final ScheduledExecutorService restarter = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "log-server-restart");
    thread.setDaemon(true);
    return thread;
  });
  private volatile Process process;
  private volatile String stoppedBecause;
  private volatile boolean closing;

  private WorkerLogServer(List<String> argv) {
    this.argv = List.copyOf(argv);
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
    WorkerLogServer server = new WorkerLogServer(argv);
    try {
      server.launch();
    } catch (IOException e) {
      server.close();
      throw new StartupException("--serve-logs: cannot start " + argv + " (" + e.getMessage() + "): fix --python, "
          + "or run without a log server (--no-serve-logs)");
    } catch (ExecutionException | TimeoutException e) {
      server.close();
      throw new StartupException("--serve-logs: the task log server (python -m " + MODULE + ") did not start: "
          + reason(e) + "; or run without it (--no-serve-logs, AIRFLOW_TEMPORAL_SERVE_LOGS=false) if the api-server "
          + "reads task logs from a shared folder or remote logging");
    }
    return server;
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

  /** Empty while it serves; else why the api-server cannot read this host's task logs now. */
  Optional<String> problem() {
    Process current = process;
    if (current != null && current.isAlive() && stoppedBecause == null) {
      return Optional.empty();
    }
    return Optional.of("the task log server (python -m " + MODULE + ") has stopped (" + stoppedBecause
        + "); it is restarted at most every " + RESTART_BACKOFF.toSeconds() + " s");
  }

  /** Starts the process and waits until it listens. */
  private void launch() throws IOException, ExecutionException, TimeoutException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    environment(builder.environment(), System.getenv());
    Process started = builder.start();
    process = started;
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread output = new Thread(() -> drain(started, ready), "log-server-output");
    output.setDaemon(true);
    output.start();
    ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    stoppedBecause = null;
    log.info("Task log server pid {} listens", started.pid());
  }

  /** Logs what it prints; completes ready with its start line, or exceptionally if it exits first. */
  private void drain(Process server, CompletableFuture<String> ready) {
    String last = "";
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
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
    String because = "it exited" + (last.isEmpty() ? "" : ": " + last);
    if (!ready.isDone()) {
      ready.completeExceptionally(new IllegalStateException(because));
    } else if (!closing && server == process) {
      stoppedBecause = because;
      log.warn("The task log server stopped ({}): the api-server cannot read the logs of this host's tries until it "
          + "is back; starting it again in {} s", last, RESTART_BACKOFF.toSeconds());
      scheduleRestart();
    }
  }

  private void scheduleRestart() {
    if (closing) {
      return;
    }
    restarter.schedule(() -> {
      if (closing) {
        return;
      }
      Process old = process;
      if (old != null) {
        old.destroyForcibly(); // a server that stopped listening but did not exit
      }
      try {
        launch();
      } catch (ExecutionException | TimeoutException | IOException e) {
        stoppedBecause = reason(e);
        log.warn("The task log server did not start again ({}); trying again in {} s", stoppedBecause,
            RESTART_BACKOFF.toSeconds());
        scheduleRestart();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // closing
      }
    }, RESTART_BACKOFF.toSeconds(), TimeUnit.SECONDS);
  }

  private static String reason(Exception e) {
    if (e instanceof TimeoutException) {
      return "it did not listen within " + START_TIMEOUT.toSeconds() + " s";
    }
    return e instanceof ExecutionException ? e.getCause().getMessage() : e.getMessage();
  }

  @Override
  public void close() {
    closing = true;
    restarter.shutdownNow();
    Process current = process;
    if (current == null) {
      return;
    }
    current.destroy();
    try {
      if (!current.waitFor(10, TimeUnit.SECONDS)) {
        current.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      current.destroyForcibly();
    }
  }
}
