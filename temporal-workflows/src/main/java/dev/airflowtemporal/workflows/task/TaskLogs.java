package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.wire.WireJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Airflow's task log files under {@code [logging] base_log_folder}: where the worker writes what a
 * runner could not log itself, so the Airflow UI shows it in the task's log.
 */
final class TaskLogs {
  private static final Logger log = LoggerFactory.getLogger(TaskLogs.class);
  private static final ObjectMapper JSON = WireJson.newMapper();

  private final Path folder;

  /** @param folder the log folder, or null when this host does not know it (nothing is written) */
  TaskLogs(Path folder) {
    this.folder = folder == null ? null : folder.toAbsolutePath().normalize();
  }

  /** Appends one line in the task log's own JSON-lines format; a blank logPath writes nothing. */
  void append(String logPath, String message) {
    if (logPath == null || logPath.isEmpty() || folder == null) {
      return;
    }
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
}
