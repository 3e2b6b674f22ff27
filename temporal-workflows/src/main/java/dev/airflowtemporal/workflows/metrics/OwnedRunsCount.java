package dev.airflowtemporal.workflows.metrics;

import dev.airflowtemporal.workflows.owned.OwnedDagRunWorkflow;
import io.temporal.api.workflowservice.v1.CountWorkflowExecutionsRequest;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the running {@code OwnedDagRun} workflows of the namespace in Temporal's visibility store every
 * {@link #INTERVAL}, in the background so that a scrape never waits on Temporal. Cluster-wide: every
 * worker reports the same number. NaN until the first count, and while Temporal does not answer.
 */
public final class OwnedRunsCount implements AutoCloseable {
  static final Duration INTERVAL = Duration.ofSeconds(15);
  private static final Logger log = LoggerFactory.getLogger(OwnedRunsCount.class);
  private static final String QUERY = "WorkflowType = '" + OwnedDagRunWorkflow.TYPE
      + "' AND ExecutionStatus = 'Running'";

  private final WorkflowServiceStubs service;
  private final String namespace;
  private final ScheduledExecutorService counter = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "owned-runs-count");
    thread.setDaemon(true);
    return thread;
  });
  private volatile double last = Double.NaN;

  private OwnedRunsCount(WorkflowServiceStubs service, String namespace) {
    this.service = service;
    this.namespace = namespace;
  }

  /** Starts counting and registers the gauge {@code airflow.temporal.owned.runs.in.progress}. */
  public static OwnedRunsCount start(WorkflowServiceStubs service, String namespace, WorkerMetrics metrics) {
    OwnedRunsCount count = new OwnedRunsCount(service, namespace);
    metrics.ownedRunsInProgress(() -> count.last);
    count.counter.scheduleWithFixedDelay(count::count, 0, INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    return count;
  }

  private void count() {
    try {
      last = service.blockingStub().withDeadlineAfter(INTERVAL.toMillis(), TimeUnit.MILLISECONDS)
          .countWorkflowExecutions(CountWorkflowExecutionsRequest.newBuilder()
              .setNamespace(namespace).setQuery(QUERY).build())
          .getCount();
    } catch (RuntimeException e) {
      last = Double.NaN;
      log.debug("Counting owned runs in progress: {}", e.toString());
    }
  }

  @Override
  public void close() {
    counter.shutdownNow();
  }
}
