package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Whether this worker can do its work now: Temporal answers for the namespace, Airflow's DB answers,
 * the runner server answers (with {@code --runner prefork}), the task log server runs (with
 * {@code --serve-logs}), the pollers run. The one verdict behind
 * {@code /readyz} and the {@code check} command.
 */
final class Readiness implements AutoCloseable {
  /** Each question gets this long; a component that has not answered by then is not ready. */
  static final Duration CHECK_TIMEOUT = Duration.ofSeconds(3);

  /** A named question; its answer is the problem, or empty when that part is ready. */
  record Check(String name, Supplier<Optional<String>> problem) {}

  /** Each check's answer ({@code ok} or its problem), in check order. */
  record Verdict(Map<String, String> answers, List<String> notReady) {
    boolean ready() {
      return notReady.isEmpty();
    }

    /** One line for the verdict, then one line per check: what a script or a person reads. */
    String text() {
      StringBuilder text = new StringBuilder(ready() ? "ready" : "not ready: " + String.join(", ", notReady))
          .append('\n');
      answers.forEach((name, answer) -> text.append(name).append(": ").append(answer).append('\n'));
      return text.toString();
    }
  }

  private final List<Check> checks;
  private final ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
    Thread thread = new Thread(runnable, "readiness-check");
    thread.setDaemon(true);
    return thread;
  });

  Readiness(List<Check> checks) {
    this.checks = List.copyOf(checks);
  }

  /**
   * @param database null where this host does not use Airflow's DB
   * @param runnerServer null with {@code --runner spawn}
   * @param pollers null where nothing polls (the {@code check} command)
   * @param logServer null where this worker serves no task logs (and in the {@code check} command)
   */
  static Readiness of(WorkflowServiceStubs service, ClientConfigProfile profile, AirflowDatabase database,
                      PreforkRunnerServer runnerServer, WorkerFactory pollers, WorkerLogServer logServer) {
    List<Check> checks = new ArrayList<>();
    checks.add(new Check("temporal", () -> {
      try {
        StartupChecks.requireNamespace(service, profile, CHECK_TIMEOUT);
        return Optional.empty();
      } catch (StartupException e) {
        return Optional.of(e.getMessage());
      }
    }));
    if (database != null) {
      checks.add(new Check("database", () -> {
        try {
          database.alembicHeads();
          return Optional.empty();
        } catch (RuntimeException e) {
          return Optional.of("Airflow's metadata DB does not answer: " + e.getMessage());
        }
      }));
    }
    if (runnerServer != null) {
      checks.add(new Check("runner_server", () -> runnerServer.ping() ? Optional.empty()
          : Optional.of("the runner server (python -m " + PreforkRunnerServer.MODULE + ") does not answer; attempts "
              + "are spawned until it is restarted")));
    }
    if (logServer != null) {
      checks.add(new Check("log_server", logServer::problem));
    }
    if (pollers != null) {
      checks.add(new Check("pollers", () -> pollers.isShutdown() ? Optional.of("the worker is stopping (draining)")
          : pollers.isStarted() ? Optional.empty() : Optional.of("the pollers have not started yet")));
    }
    return new Readiness(checks);
  }

  /** Asks every check at once and waits for each at most {@link #CHECK_TIMEOUT}. */
  Verdict evaluate() {
    Map<String, CompletableFuture<Optional<String>>> pending = new LinkedHashMap<>();
    for (Check check : checks) {
      pending.put(check.name(), CompletableFuture.supplyAsync(check.problem(), executor));
    }
    long deadline = System.nanoTime() + CHECK_TIMEOUT.toNanos();
    Map<String, String> answers = new LinkedHashMap<>();
    List<String> notReady = new ArrayList<>();
    pending.forEach((name, answer) -> {
      String problem;
      try {
        problem = answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).orElse(null);
      } catch (TimeoutException e) {
        answer.cancel(true);
        problem = "did not answer within " + CHECK_TIMEOUT.toSeconds() + " s";
      } catch (ExecutionException e) {
        problem = "the check failed: " + e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        problem = "interrupted";
      }
      answers.put(name, problem == null ? "ok" : problem);
      if (problem != null) {
        notReady.add(name);
      }
    });
    return new Verdict(answers, notReady);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
