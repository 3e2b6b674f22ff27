package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.core.wire.WorkloadRun;
import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.ActivityNotExistsException;
import io.temporal.failure.TimeoutFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one attempt as Airflow's own task runner in a process of its own (no shell in between): forked
 * by the pre-forked runner server, or spawned as a new interpreter. The runner outlives a Temporal
 * outage (see {@link LiveRunners}) but not this worker process (see {@code airflow_temporal.worker.lifeline}).
 */
public class TaskActivitiesImpl implements TaskActivities, WorkloadActivities {
  private static final Logger log = LoggerFactory.getLogger(TaskActivitiesImpl.class);
  private static final ObjectMapper JSON = WireJson.newMapper();

  private final RunnerSettings settings;
  private final LiveRunners liveRunners;
  private final TaskLogs taskLogs;
  private final WorkerMetrics metrics;

  public TaskActivitiesImpl(RunnerSettings settings, LiveRunners liveRunners) {
    this(settings, liveRunners, WorkerMetrics.none());
  }

  public TaskActivitiesImpl(RunnerSettings settings, LiveRunners liveRunners, WorkerMetrics metrics) {
    this.settings = settings;
    this.liveRunners = liveRunners;
    this.taskLogs = new TaskLogs(settings.logFolder());
    this.metrics = metrics;
  }

  @Override
  public TaskAttemptResult runTask(TaskAttempt attempt) {
    String label = attempt.dagId() + "/" + attempt.runId() + "/" + attempt.attempt().label();
    String logPath = attempt.workload() == null ? "" : attempt.workload().path("log_path").asText("");
    return counted("task", started -> runRunner(settings.command(), attempt.workload(), label, logPath,
        announceRunner(label), started));
  }

  @Override
  public TaskAttemptResult runWorkload(WorkloadRun run) {
    // A callback writes its log under executor_callbacks/ in Airflow's log folder, where Airflow's own
    // executors write it; a connection test has no log file (its result goes through the Execution API).
    String logPath = run.workload().path("log_path").asText("");
    return counted("workload", started -> runRunner(settings.command(), run.workload(), run.label(), logPath,
        announceRunner(run.label()), started));
  }

  @Override
  public TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload) {
    return counted("owned_task", started -> runOwned(workload, started));
  }

  /** An attempt's body, given when the activity started (for the runner start latency). */
  private interface AttemptBody {
    TaskAttemptResult run(long startedNanos);
  }

  /** Runs the attempt counted as started and, by its outcome, finished on its Airflow queue. */
  private TaskAttemptResult counted(String kind, AttemptBody body) {
    long startedNanos = System.nanoTime();
    WorkerMetrics.Attempt attempt = metrics.attemptStarted(
        metrics.airflowQueue(Activity.getExecutionContext().getInfo().getActivityTaskQueue()), kind);
    WorkerMetrics.Outcome outcome = WorkerMetrics.Outcome.stopped;
    try {
      TaskAttemptResult result = body.run(startedNanos);
      outcome = result == null ? WorkerMetrics.Outcome.handed_off
          : result.exitCode() == null ? WorkerMetrics.Outcome.not_started
          : result.succeeded() ? WorkerMetrics.Outcome.success : WorkerMetrics.Outcome.failed;
      return result;
    } finally {
      attempt.finished(outcome);
    }
  }

  private TaskAttemptResult runOwned(OwnedTaskWorkload workload, long startedNanos) {
    OwnedTaskWorkload.TaskInstance ti = workload.ti();
    String label = ti.dagId() + "/" + ti.runId() + "/" + new AttemptKey(ti.taskId(), ti.mapIndex(), ti.tryNumber()).label();
    // The owned runner renders the log path itself; a runner that cannot start is reported in the result.
    String runnerId = announceRunner(label);
    Object runnerWorkload;
    try {
      runnerWorkload = settings.tokenMinter() == null ? workload : settings.tokenMinter().withToken(workload,
          ti.id().toString(), settings.heartbeatInterval(), heartbeatFor(Activity.getExecutionContext(), runnerId, label));
    } catch (ExecutionTokenMinter.TokenUnavailableException e) {
      return failWithoutRunner(label, "", "cannot sign the try's Execution API token: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
    return runRunner(settings.ownedCommand(), runnerWorkload, label, "", runnerId, startedNanos);
  }

  @Override
  public TaskAttemptResult reattachTask(RunnerWhereabouts whereabouts) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Object watcher = new Object();
    Optional<LiveRunner> runner = liveRunners.claim(whereabouts.runnerId(), watcher);
    if (runner.isEmpty()) {
      String reason = "worker lost: the runner (pid " + whereabouts.pid() + " on " + whereabouts.host()
          + ") is not known to the worker process that started it any more";
      log.warn("{}", reason);
      return new TaskAttemptResult(null, reason, "");
    }
    log.info("Reattached to the runner pid {} for {}", whereabouts.pid(), runner.get().label());
    try {
      return watch(context, runner.get(), watcher);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
  }

  /**
   * Writes the workload to a file only this user can read, runs {@code command --json-path FILE}
   * (forked by the runner server when there is one and it answers, else spawned), and watches it.
   * A runner that cannot start or exits non-zero is a result, not an exception: the attempt fails
   * once and visibly.
   */
  private TaskAttemptResult runRunner(List<String> runnerCommand, Object workload, String label, String logPath,
      String runnerId, long startedNanos) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Path workloadFile = null;
    try {
      workloadFile = writeWorkload(workload);
      List<String> command = new ArrayList<>(runnerCommand);
      command.add("--json-path");
      command.add(workloadFile.toString());
      RunnerProcess process = forkIfPossible(context, command, label, runnerId);
      if (process == null) {
        try {
          process = SpawnedRunner.start(command);
        } catch (IOException e) {
          String reason = "cannot start the Airflow task runner " + runnerCommand
              + ": " + e.getMessage() + ". Point the worker's --python at the interpreter of the Airflow installation.";
          return failWithoutRunner(label, logPath, reason);
        }
      }
      metrics.runnerStarted(process.how(), Duration.ofNanos(System.nanoTime() - startedNanos));
      log.info("Started runner pid {} for {} ({})", process.pid(), label, process.how());
      Object watcher = new Object();
      return watch(context, liveRunners.add(runnerId, process, label, taskLogs, logPath, watcher), watcher);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } catch (IOException e) {
      return failWithoutRunner(label, logPath, "cannot write the workload file: " + e.getMessage());
    } finally {
      // A runner reads it as it starts, long before its execution can end without it.
      deleteQuietly(workloadFile);
    }
  }

  /** The runner forked by the runner server, or null to spawn it: no server, or it does not answer. */
  private RunnerProcess forkIfPossible(ActivityExecutionContext context, List<String> command, String label,
      String runnerId)
      throws InterruptedException {
    PreforkRunnerServer server = settings.runnerServer();
    if (server == null) {
      return null;
    }
    try {
      // The spawned command line without the interpreter: both ways run the same module and arguments.
      return server.fork(command.subList(1, command.size()), settings.heartbeatInterval(), heartbeatFor(context, runnerId, label));
    } catch (RunnerServerUnavailableException e) {
      log.warn("Runner server unavailable for {} ({}): spawning the runner", label, e.getMessage());
      server.restartInBackground();
      return null;
    }
  }

  /**
   * The id of the runner this execution is about to start, heartbeated at once: the SDK sends a
   * first heartbeat immediately and throttles the next ones, and Temporal out of reach from the
   * next moment on would time the execution out knowing nothing of it; the workflow can only claim
   * a runner whose id it was told.
   */
  private String announceRunner(String label) {
    String runnerId = liveRunners.newRunnerId();
    heartbeatFor(Activity.getExecutionContext(), runnerId, label).run();
    return runnerId;
  }

  /** Heartbeats before the runner exists carry its id already (pid 0). */
  private Runnable heartbeatFor(ActivityExecutionContext context, String runnerId, String label) {
    return () -> context.heartbeat(liveRunners.whereabouts(runnerId, 0, label));
  }

  /**
   * Waits for the runner, heartbeating its whereabouts, and returns its outcome. A real cancel, a
   * reset or the worker's shutdown kills it. Temporal out of reach, or no longer knowing this
   * execution, does not: the runner passes to the keeper, this execution ends without reporting, and
   * the workflow claims the runner through {@link #reattachTask}. Likewise this execution ends quietly
   * once another one has claimed the runner.
   */
  private TaskAttemptResult watch(ActivityExecutionContext context, LiveRunner runner, Object watcher)
      throws InterruptedException {
    try {
      while (runner.isWatchedBy(watcher)) {
        try {
          runner.exit().get(settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
          TaskAttemptResult outcome = runner.outcome(); // before remove(), which deletes its output file
          liveRunners.remove(runner);
          return outcome;
        } catch (TimeoutException e) {
          context.heartbeat(runner.whereabouts());
        }
      }
      log.info("Runner for {} was claimed by a later activity execution; this one ends without reporting", runner.label());
    } catch (ActivityNotExistsException e) {
      orphan(context, runner, watcher, true);
    } catch (ActivityCanceledException e) {
      if (!(e.getCause() instanceof TimeoutFailure)) {
        throw stop(runner, e);
      }
      orphan(context, runner, watcher, false); // the SDK's local heartbeat deadline: Temporal is out of reach
    } catch (ActivityCompletionException e) {
      throw stop(runner, e);
    } catch (InterruptedException e) {
      throw stop(runner, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a runner's exit future never fails", e.getCause());
    }
    context.doNotCompleteOnReturn();
    return null;
  }

  private void orphan(ActivityExecutionContext context, LiveRunner runner, Object watcher, boolean gone) {
    if (liveRunners.orphan(runner, watcher, context.getWorkflowClient().newActivityCompletionClient(),
        context.getTaskToken(), gone)) {
      log.warn("{} for {}: its runner (pid {}) goes on, kept by this worker until Temporal tells its fate",
          gone ? "Temporal no longer knows the activity" : "Temporal has been out of reach for the heartbeat timeout",
          runner.label(), runner.process().pid());
    }
  }

  private <E extends Exception> E stop(LiveRunner runner, E cause) {
    log.info("Stopping runner for {}: {}", runner.label(), cause.getClass().getSimpleName());
    runner.kill(settings.killGracePeriod());
    liveRunners.remove(runner);
    return cause;
  }

  private TaskAttemptResult failWithoutRunner(String label, String logPath, String reason) {
    log.error("{}: {}", label, reason);
    taskLogs.append(logPath, reason);
    return new TaskAttemptResult(null, reason, "");
  }

  private Path writeWorkload(Object workload) throws IOException {
    // The workload carries the attempt's Execution API token: readable by this user only.
    Path file = Files.createTempFile("airflow-workload-", ".json",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(file, JSON.writeValueAsBytes(workload));
    return file;
  }

  private static void deleteQuietly(Path file) {
    if (file == null) {
      return;
    }
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("Could not delete workload file {}: {}", file, e.getMessage());
    }
  }
}
