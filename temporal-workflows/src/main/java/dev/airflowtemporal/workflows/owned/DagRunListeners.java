package dev.airflowtemporal.workflows.owned;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.child.JsonLinesChild;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listener plugins' DagRun hooks ({@code on_dag_run_running/success/failed}) for the owned runs this worker
 * starts and ends, called by {@code python -m airflow_temporal.worker.dag_run_listeners} as Airflow's scheduler
 * calls them for its runs. The DB steps hand each transition they made here after its commit and go on: the
 * hooks run in order, one at a time, on a thread of their own, so a slow listener (or the first call's import of
 * Airflow and its plugins) never holds a run's step. As in the scheduler, a notification is given at most once:
 * one lost with the worker (or a Python that cannot run) is logged, not retried. When no listener plugin implements
 * a DagRun hook, the process says so at the first call and exits, and the worker starts it no more.
 */
public class DagRunListeners implements AutoCloseable {
  public static final String MODULE = "airflow_temporal.worker.dag_run_listeners";
  private static final Logger log = LoggerFactory.getLogger(DagRunListeners.class);
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** Airflow's import and the plugins' load on the first call, then whatever the listeners do. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(5);

  private final JsonLinesChild listeners;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(runnable -> {
    Thread t = new Thread(runnable, "dag-run-listeners");
    t.setDaemon(true);
    return t;
  });
  /** The process found no plugin that implements a DagRun hook: it exited, and is not started again. */
  private volatile boolean noHooks;

  DagRunListeners(List<String> command) {
    // The worker's own environment, DB URL included: the hooks get the DagRun from Airflow's DB. What the
    // listeners print goes to the worker's stderr.
    this.listeners = new JsonLinesChild(new ProcessBuilder(command), ANSWER_TIMEOUT);
  }

  public static DagRunListeners forPython(String python) {
    return new DagRunListeners(List.of(python, "-m", MODULE));
  }

  /**
   * Hands a transition this worker made (and committed) to the listeners.
   *
   * @param state the state the run was set to: running, success or failed
   * @param msg the scheduler's reason ({@code started}, {@code success}, {@code timed_out}); null for a run that
   *     ended failed, named as {@code update_state} names it
   * @return when the listeners were called or given up on
   */
  public CompletableFuture<Void> notify(String dagId, String runId, String state, String msg) {
    if (noHooks) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(() -> call(dagId, runId, state, msg), thread);
  }

  private void call(String dagId, String runId, String state, String msg) {
    if (noHooks) { // learnt while this call waited for the thread
      return;
    }
    Map<String, String> request = new HashMap<>();
    request.put("dag_id", dagId);
    request.put("run_id", runId);
    request.put("state", state);
    request.put("msg", msg);
    String what = "on_dag_run_" + state + " of DagRun " + runId + " of " + dagId;
    try {
      JsonNode reply = listeners.ask(JSON.writeValueAsString(request));
      if (reply.hasNonNull("error")) {
        log.warn("{} not called: {}", what, reply.get("error").asText());
      } else if (!reply.path("dag_run_hooks").asBoolean(true)) {
        // Plugins are read once per process, as by the scheduler at its start: none will come before a restart.
        noHooks = true;
        listeners.close();
        log.info("No listener plugin implements a DagRun hook: owned runs' DagRun hooks are not called until the "
            + "worker restarts");
      }
    } catch (JsonLinesChild.ChildUnavailableException e) {
      log.warn("{} not called: {}", what, e.getMessage());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a map of strings is JSON", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Gives the notifications handed over so far a moment to be delivered, then stops the Python process. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
        thread.shutdownNow();
      }
    } catch (InterruptedException e) {
      thread.shutdownNow();
      Thread.currentThread().interrupt();
    }
    listeners.close();
  }
}
