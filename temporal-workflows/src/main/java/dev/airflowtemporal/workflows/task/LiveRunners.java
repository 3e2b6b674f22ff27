package dev.airflowtemporal.workflows.task;

import io.temporal.client.ActivityCanceledException;
import io.temporal.client.ActivityCompletionClient;
import io.temporal.client.ActivityCompletionException;
import io.temporal.client.ActivityNotExistsException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runners this worker process started and has not reported yet, and the keeper of those whose
 * activity execution lost Temporal.
 *
 * <p>A runner is never killed because Temporal cannot be reached: Airflow's task goes on. When its
 * activity execution's heartbeats fail for longer than the heartbeat timeout (the SDK then ends the
 * execution locally) or Temporal says the execution no longer exists (it timed out while the
 * server was away), the runner passes to the keeper, which heartbeats it with the execution's task
 * token until the server answers:
 * <ul>
 *   <li>the execution is alive: the keeper reports the runner's outcome when it exits;</li>
 *   <li>it was cancelled: the runner is killed;</li>
 *   <li>it no longer exists: the workflow, told of the heartbeat timeout, asks this process for the
 *       runner ({@link TaskActivities#reattachTask}) and a new execution takes it over; a runner that
 *       no workflow claims within the claim window was decided elsewhere and is killed.</li>
 * </ul>
 */
public final class LiveRunners implements AutoCloseable {
  /** How long after Temporal said an execution is gone its runner waits for the workflow to claim it. */
  static final Duration DEFAULT_CLAIM_WINDOW = Duration.ofSeconds(60);

  private static final Logger log = LoggerFactory.getLogger(LiveRunners.class);
  private static final Object KEEPER = new Object() {
    @Override
    public String toString() {
      return "the orphan keeper";
    }
  };

  private final Map<String, LiveRunner> runners = new ConcurrentHashMap<>();
  private final String reattachQueue;
  private final String host;
  private final Duration claimWindow;
  private final Duration killGracePeriod;
  private final ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "orphan-runner-keeper");
    thread.setDaemon(true);
    return thread;
  });

  /** @param reattachQueue the task queue only this worker process polls, where workflows claim its runners */
  public LiveRunners(String reattachQueue, Duration keepInterval, Duration killGracePeriod, Duration claimWindow) {
    this.reattachQueue = reattachQueue;
    this.host = hostName();
    this.claimWindow = claimWindow;
    this.killGracePeriod = killGracePeriod;
    keeper.scheduleWithFixedDelay(this::keepOrphans, keepInterval.toMillis(), keepInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  public static LiveRunners forSettings(RunnerSettings settings) {
    return new LiveRunners(settings.reattachQueue(), settings.heartbeatInterval(), settings.killGracePeriod(),
        DEFAULT_CLAIM_WINDOW);
  }

  /** The id a runner about to start will have here. */
  String newRunnerId() {
    return UUID.randomUUID().toString();
  }

  /** What a task activity heartbeats for runner {@code runnerId} (pid 0 until it has started). */
  RunnerWhereabouts whereabouts(String runnerId, long pid, String label) {
    return new RunnerWhereabouts(reattachQueue, runnerId, pid, host, label);
  }

  LiveRunner add(String runnerId, RunnerProcess process, String label, TaskLogs taskLogs, String logPath,
      Object watcher) {
    LiveRunner runner = new LiveRunner(whereabouts(runnerId, process.pid(), label), process, label, taskLogs, logPath, watcher);
    runners.put(runner.runnerId(), runner);
    return runner;
  }

  void remove(LiveRunner runner) {
    if (runners.remove(runner.runnerId(), runner)) {
      runner.process().close();
    }
  }

  /** The runner, now watched by {@code watcher}, or empty if this process does not know it (any more). */
  Optional<LiveRunner> claim(String runnerId, Object watcher) {
    LiveRunner runner = runners.get(runnerId);
    if (runner != null) {
      runner.takeOver(watcher);
    }
    return Optional.ofNullable(runner);
  }

  /**
   * Hands the runner to the keeper; false if another execution took it over meanwhile.
   *
   * @param gone whether Temporal said the execution no longer exists (else it could not be reached)
   */
  boolean orphan(LiveRunner runner, Object from, ActivityCompletionClient completions, byte[] taskToken, boolean gone) {
    return runner.orphan(from, KEEPER, completions, taskToken, gone);
  }

  public int size() {
    return runners.size();
  }

  @Override
  public void close() {
    keeper.shutdownNow();
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "unknown";
    }
  }

  private void keepOrphans() {
    for (LiveRunner runner : runners.values()) {
      if (runner.isWatchedBy(KEEPER)) {
        try {
          keep(runner);
        } catch (RuntimeException e) {
          log.warn("Keeping orphaned runner for {}: {}", runner.label(), e.toString());
        }
      }
    }
  }

  private void keep(LiveRunner runner) {
    long goneSince = runner.goneSinceNanos();
    if (goneSince != 0 && System.nanoTime() - goneSince > claimWindow.toNanos()) {
      log.warn("No workflow claimed the runner for {} within {} s of Temporal ending its activity: its attempt was "
          + "decided elsewhere, so it is stopped", runner.label(), claimWindow.toSeconds());
      if (!runner.exited()) {
        runner.kill(killGracePeriod);
      }
      remove(runner);
      return;
    }
    if (goneSince != 0) {
      return; // waiting for the workflow's claim, with the outcome if the runner has exited
    }
    try {
      if (runner.exited()) {
        runner.completions().complete(runner.taskToken(), runner.outcome());
        log.info("Reported the outcome of {} once Temporal was reachable again", runner.label());
        remove(runner);
      } else {
        runner.completions().heartbeat(runner.taskToken(), runner.whereabouts());
      }
    } catch (ActivityNotExistsException e) {
      log.info("Temporal timed out the activity of {} while it was unreachable; the runner waits for its workflow "
          + "to claim it", runner.label());
      runner.markGone();
    } catch (ActivityCanceledException e) {
      log.info("The attempt {} was cancelled while Temporal was unreachable: stopping its runner", runner.label());
      runner.kill(killGracePeriod);
      try {
        runner.completions().reportCancellation(runner.taskToken(), null);
      } catch (ActivityCompletionException ignored) {
        // the cancellation is recorded either way once the server times the execution out
      }
      remove(runner);
    } catch (ActivityCompletionException e) {
      log.debug("Temporal still unreachable for {}: {}", runner.label(), e.getMessage());
    }
  }
}
