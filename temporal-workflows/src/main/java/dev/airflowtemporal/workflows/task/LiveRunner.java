package dev.airflowtemporal.workflows.task;

import io.temporal.client.ActivityCompletionClient;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One runner this worker process started, and who reports its outcome: exactly one watcher at a
 * time, the activity execution that started it, a later one that reattached to it, or the
 * {@link LiveRunners} keeper while no activity execution can reach Temporal.
 */
final class LiveRunner {
  private static final Logger log = LoggerFactory.getLogger(LiveRunner.class);

  private final String runnerId;
  private final RunnerWhereabouts whereabouts;
  private final RunnerProcess process;
  /** Asked for once: a spawned runner's exit() is a new future on every call. */
  private final CompletableFuture<Integer> exit;
  private final String label;
  private final TaskLogs taskLogs;
  private final String logPath;
  private final AtomicReference<Object> watcher;
  // Set while the keeper watches it: how to reach the activity execution it was orphaned from.
  private volatile ActivityCompletionClient completions;
  private volatile byte[] taskToken;
  /** When Temporal first said that activity execution no longer exists, in System.nanoTime; 0 if not. */
  private volatile long goneSinceNanos;
  // guarded by this
  private TaskAttemptResult outcome;

  LiveRunner(RunnerWhereabouts whereabouts, RunnerProcess process, String label, TaskLogs taskLogs, String logPath,
      Object watcher) {
    this.runnerId = whereabouts.runnerId();
    this.whereabouts = whereabouts;
    this.process = process;
    this.exit = process.exit();
    this.label = label;
    this.taskLogs = taskLogs;
    this.logPath = logPath;
    this.watcher = new AtomicReference<>(watcher);
  }

  String runnerId() {
    return runnerId;
  }

  /** The details of every heartbeat of the execution watching it. */
  RunnerWhereabouts whereabouts() {
    return whereabouts;
  }

  RunnerProcess process() {
    return process;
  }

  String label() {
    return label;
  }

  boolean isWatchedBy(Object candidate) {
    return watcher.get() == candidate;
  }

  /** Takes the runner over from whoever watches it now. */
  void takeOver(Object newWatcher) {
    watcher.set(newWatcher);
    completions = null;
    taskToken = null;
    goneSinceNanos = 0;
  }

  /** Hands the runner from {@code from} to the keeper; false if someone took it over meanwhile. */
  boolean orphan(Object from, Object keeper, ActivityCompletionClient completions, byte[] taskToken, boolean gone) {
    this.completions = completions;
    this.taskToken = taskToken;
    this.goneSinceNanos = gone ? System.nanoTime() : 0;
    return watcher.compareAndSet(from, keeper);
  }

  ActivityCompletionClient completions() {
    return completions;
  }

  byte[] taskToken() {
    return taskToken;
  }

  long goneSinceNanos() {
    return goneSinceNanos;
  }

  void markGone() {
    if (goneSinceNanos == 0) {
      goneSinceNanos = System.nanoTime();
    }
  }

  /** Completes with the exit code, or with null when the runner server stopped before telling it. */
  CompletableFuture<Integer> exit() {
    return exit;
  }

  boolean exited() {
    return exit.isDone();
  }

  /**
   * What the attempt's result says once the runner has exited. A runner that failed gets the
   * reason and its last output appended to its Airflow task log (once), so the UI shows why.
   */
  synchronized TaskAttemptResult outcome() {
    if (outcome == null) {
      outcome = readOutcome();
    }
    return outcome;
  }

  private TaskAttemptResult readOutcome() {
    Integer exitCode = exit.getNow(null);
    if (exitCode != null && exitCode == 0) {
      log.info("Runner for {} exited 0", label);
      return new TaskAttemptResult(0, null, "");
    }
    String reason = exitCode == null
        ? "the runner server stopped while the Airflow task runner ran, so its exit code is unknown"
        : "the Airflow task runner exited with code " + exitCode;
    log.warn("{} for {}", reason, label);
    String tail;
    try {
      tail = process.outputTail();
    } catch (IOException e) {
      reason = "the Airflow task runner failed, and its output cannot be read: " + e.getMessage();
      tail = "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      tail = "";
    }
    taskLogs.append(logPath, reason + "; its last output:\n" + tail);
    return new TaskAttemptResult(exitCode, reason, tail);
  }

  void kill(Duration gracePeriod) {
    try {
      process.kill(gracePeriod);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
