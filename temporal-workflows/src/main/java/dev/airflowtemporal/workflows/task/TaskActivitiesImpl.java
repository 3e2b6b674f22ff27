package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.wire.OwnedTaskWorkload;
import dev.airflowtemporal.core.wire.WireJson;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one attempt as Airflow's own task runner in a process of its own (no shell in between): forked
 * by the pre-forked runner server, or spawned as a new interpreter.
 */
public class TaskActivitiesImpl implements TaskActivities {
  private static final Logger log = LoggerFactory.getLogger(TaskActivitiesImpl.class);
  private static final ObjectMapper JSON = WireJson.newMapper();

  private final RunnerSettings settings;

  public TaskActivitiesImpl(RunnerSettings settings) {
    this.settings = settings;
  }

  @Override
  public TaskAttemptResult runTask(TaskAttempt attempt) {
    String label = attempt.dagId() + "/" + attempt.runId() + "/" + attempt.attempt().label();
    String logPath = attempt.workload() == null ? "" : attempt.workload().path("log_path").asText("");
    return runRunner(settings.command(), attempt.workload(), label, logPath);
  }

  @Override
  public TaskAttemptResult runOwnedTask(OwnedTaskWorkload workload) {
    OwnedTaskWorkload.TaskInstance ti = workload.ti();
    String label = ti.dagId() + "/" + ti.runId() + "/" + ti.taskId()
        + (ti.mapIndex() >= 0 ? "[" + ti.mapIndex() + "]" : "") + " try " + ti.tryNumber();
    // The owned runner renders the log path itself; a runner that cannot start is reported in the result.
    Object runnerWorkload;
    try {
      runnerWorkload = settings.tokenMinter() == null ? workload : settings.tokenMinter().withToken(workload,
          ti.id().toString(), settings.heartbeatInterval(), () -> Activity.getExecutionContext().heartbeat(null));
    } catch (ExecutionTokenMinter.TokenUnavailableException e) {
      return failWithoutRunner(label, "", "cannot sign the try's Execution API token: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    }
    return runRunner(settings.ownedCommand(), runnerWorkload, label, "");
  }

  /**
   * Writes the workload to a file only this user can read, runs {@code command --json-path FILE}
   * (forked by the runner server when there is one and it answers, else spawned), and waits for it
   * heartbeating. A runner that cannot start or exits non-zero is a result, not an exception: the
   * attempt fails once and visibly.
   */
  private TaskAttemptResult runRunner(List<String> runnerCommand, Object workload, String label, String logPath) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Path workloadFile = null;
    RunnerProcess runner = null;
    try {
      workloadFile = writeWorkload(workload);
      List<String> command = new ArrayList<>(runnerCommand);
      command.add("--json-path");
      command.add(workloadFile.toString());
      runner = forkIfPossible(context, command, label);
      if (runner == null) {
        try {
          runner = SpawnedRunner.start(command);
        } catch (IOException e) {
          String reason = "cannot start the Airflow task runner " + runnerCommand
              + ": " + e.getMessage() + ". Point the worker's --python at the interpreter of the Airflow installation.";
          return failWithoutRunner(label, logPath, reason);
        }
      }
      log.info("Started runner pid {} for {} ({})", runner.pid(), label, runner.how());
      Integer exitCode = waitHeartbeating(context, runner, label);
      if (exitCode != null && exitCode == 0) {
        log.info("Runner for {} exited 0", label);
        return new TaskAttemptResult(0, null, "");
      }
      String reason = exitCode == null
          ? "the runner server stopped while the Airflow task runner ran, so its exit code is unknown"
          : "the Airflow task runner exited with code " + exitCode;
      log.warn("{} for {}", reason, label);
      String tail = runner.outputTail();
      appendToTaskLog(logPath, reason + "; its last output:\n" + tail);
      return new TaskAttemptResult(exitCode, reason, tail);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } catch (IOException e) {
      String reason = runner == null ? "cannot write the workload file: " + e.getMessage()
          : "the Airflow task runner failed, and its output cannot be read: " + e.getMessage();
      return failWithoutRunner(label, logPath, reason);
    } finally {
      if (runner != null) {
        runner.close();
      }
      deleteQuietly(workloadFile);
    }
  }

  /** The runner forked by the runner server, or null to spawn it: no server, or it does not answer. */
  private RunnerProcess forkIfPossible(ActivityExecutionContext context, List<String> command, String label)
      throws InterruptedException {
    PreforkRunnerServer server = settings.runnerServer();
    if (server == null) {
      return null;
    }
    try {
      // The spawned command line without the interpreter: both ways run the same module and arguments.
      return server.fork(command.subList(1, command.size()), settings.heartbeatInterval(), () -> context.heartbeat(null));
    } catch (RunnerServerUnavailableException e) {
      log.warn("Runner server unavailable for {} ({}): spawning the runner", label, e.getMessage());
      server.restartInBackground();
      return null;
    }
  }

  /** Waits for the runner; a heartbeat that reports cancellation or worker shutdown kills it. */
  private Integer waitHeartbeating(ActivityExecutionContext context, RunnerProcess runner, String label)
      throws InterruptedException {
    try {
      while (true) {
        try {
          return runner.exit().get(settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
          context.heartbeat(null);
        }
      }
    } catch (ActivityCompletionException | InterruptedException e) {
      log.info("Stopping runner for {}: {}", label, e.getClass().getSimpleName());
      runner.kill(settings.killGracePeriod());
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException("a runner's exit future never fails", e.getCause());
    }
  }

  private TaskAttemptResult failWithoutRunner(String label, String logPath, String reason) {
    log.error("{}: {}", label, reason);
    appendToTaskLog(logPath, reason);
    return new TaskAttemptResult(null, reason, "");
  }

  private Path writeWorkload(Object workload) throws IOException {
    // The workload carries the attempt's Execution API token: readable by this user only.
    Path file = Files.createTempFile("airflow-workload-", ".json",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.write(file, JSON.writeValueAsBytes(workload));
    return file;
  }

  /**
   * Appends one line in the task log's own JSON-lines format to the attempt's Airflow log file, so
   * a failure the runner could not log itself is visible in the Airflow UI.
   */
  private void appendToTaskLog(String logPath, String message) {
    if (logPath.isEmpty() || settings.logFolder() == null) {
      return;
    }
    Path folder = settings.logFolder().toAbsolutePath().normalize();
    Path file = folder.resolve(logPath).normalize();
    if (!file.startsWith(folder)) {
      log.warn("Not writing outside the log folder: log_path '{}'", logPath);
      return;
    }
    ObjectNode line = JSON.createObjectNode()
        .put("timestamp", Instant.now().toString())
        .put("level", "error")
        .put("event", message)
        .put("logger", "airflow_temporal.worker");
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, JSON.writeValueAsString(line) + "\n", StandardCharsets.UTF_8,
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.warn("Could not write to task log {}: {}", file, e.getMessage());
    }
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
