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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs one attempt as Airflow's own task runner in a child process (no shell in between). */
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
    return runRunner(settings.ownedCommand(), workload, label, "");
  }

  /**
   * Writes the workload to a file only this user can read, runs {@code command --json-path FILE},
   * and waits for it heartbeating. A runner that cannot start or exits non-zero is a result, not an
   * exception: the attempt fails once and visibly.
   */
  private TaskAttemptResult runRunner(List<String> runnerCommand, Object workload, String label, String logPath) {
    ActivityExecutionContext context = Activity.getExecutionContext();
    Path workloadFile = null;
    try {
      workloadFile = writeWorkload(workload);
      List<String> command = new ArrayList<>(runnerCommand);
      command.add("--json-path");
      command.add(workloadFile.toString());
      Process process;
      try {
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
      } catch (IOException e) {
        String reason = "cannot start the Airflow task runner " + runnerCommand
            + ": " + e.getMessage() + ". Point the worker's --python at the interpreter of the Airflow installation.";
        return failWithoutRunner(label, logPath, reason);
      }
      log.info("Started runner pid {} for {}", process.pid(), label);
      OutputTail tail = new OutputTail(process.getInputStream());
      Thread drainer = new Thread(tail, "runner-output-" + process.pid());
      drainer.setDaemon(true);
      drainer.start();
      int exitCode = waitHeartbeating(context, process, label);
      drainer.join(TimeUnit.SECONDS.toMillis(5));
      if (exitCode == 0) {
        log.info("Runner for {} exited 0", label);
        return new TaskAttemptResult(0, null, "");
      }
      String reason = "the Airflow task runner exited with code " + exitCode;
      log.warn("{} for {}", reason, label);
      appendToTaskLog(logPath, reason + "; its last output:\n" + tail.text());
      return new TaskAttemptResult(exitCode, reason, tail.text());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Activity.wrap(e);
    } catch (IOException e) {
      return failWithoutRunner(label, logPath, "cannot write the workload file: " + e.getMessage());
    } finally {
      deleteQuietly(workloadFile);
    }
  }

  /** Waits for the runner; a heartbeat that reports cancellation or worker shutdown kills it. */
  private int waitHeartbeating(ActivityExecutionContext context, Process process, String label)
      throws InterruptedException {
    try {
      while (!process.waitFor(settings.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS)) {
        context.heartbeat(null);
      }
      return process.exitValue();
    } catch (ActivityCompletionException | InterruptedException e) {
      log.info("Stopping runner for {}: {}", label, e.getClass().getSimpleName());
      ProcessTrees.kill(process, settings.killGracePeriod());
      throw e;
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
