package dev.airflowtemporal.workflows.cleared;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.dbsync.DagRun;
import dev.airflowtemporal.dbsync.DagRunKey;
import dev.airflowtemporal.dbsync.DagRuns;
import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import dev.airflowtemporal.dbsync.ResumedTaskInstance;
import dev.airflowtemporal.dbsync.WaitingTaskInstances;
import dev.airflowtemporal.workflows.owned.OwnedDagRunCarry;
import dev.airflowtemporal.workflows.owned.OwnedDagRunWorkflow;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the external runs Airflow cleared in its DB and hands them back to Temporal. A run cleared
 * after it finished is queued: an {@code OwnedDagRun} workflow is started under the run's workflow
 * id to resume it (a new execution of a closed id; a second start while one runs is refused by
 * Temporal, and a second resumption finds the run no longer queued). A run cleared while its
 * workflow drives it stays running: that workflow is signalled the new clear_number.
 *
 * <p>It also tells the workflow of a running external run when Airflow resumed one of its tries parked
 * without a runner (state scheduled: a deferral's trigger fired, failed or timed out; a Human-in-the-loop
 * task was answered or timed out), so that the workflow queues it within a sweep interval.
 */
public class ClearedRunsSweepActivitiesImpl implements ClearedRunsSweepActivities {
  private static final Logger log = LoggerFactory.getLogger(ClearedRunsSweepActivitiesImpl.class);
  private static final ObjectMapper JSON = WireJson.newMapper();

  private final DagRuns dagRuns;
  private final WaitingTaskInstances waiting;
  private final WorkflowClient client;
  private final String taskQueue;
  private final WorkerMetrics metrics;
  /**
   * The clear_number last signalled (or found without a workflow) per workflow id, so that a clear is
   * reported once per worker rather than at every sweep that still sees it as recent.
   */
  private final Map<String, Integer> reported = new ConcurrentHashMap<>();
  /**
   * The resumed tries last signalled per workflow id (task, map index, try, when Airflow resumed it), so that
   * a resumption is reported once per worker, not at every sweep until the workflow has queued it.
   */
  private final Map<String, Set<String>> resumedReported = new ConcurrentHashMap<>();

  /**
   * @param client a client with {@code WireDataConverter}, in the namespace the worker serves
   * @param taskQueue where owned workflows run: the worker's base task queue
   */
  public ClearedRunsSweepActivitiesImpl(DagRuns dagRuns, WaitingTaskInstances waiting, WorkflowClient client,
                                        String taskQueue) {
    this(dagRuns, waiting, client, taskQueue, WorkerMetrics.none());
  }

  public ClearedRunsSweepActivitiesImpl(DagRuns dagRuns, WaitingTaskInstances waiting, WorkflowClient client,
                                        String taskQueue, WorkerMetrics metrics) {
    this.dagRuns = dagRuns;
    this.waiting = waiting;
    this.client = client;
    this.taskQueue = taskQueue;
    this.metrics = metrics;
  }

  @Override
  public ClearedRunsSweepSummary sweep(ClearedRunsSweepSettings settings) {
    List<DagRun> cleared = dagRuns.clearedExternalRuns(settings.recentlyCleared());
    int queued = 0;
    int resumed = 0;
    int alreadyResuming = 0;
    int signalled = 0;
    int failed = 0;
    Set<String> seen = new HashSet<>();
    for (DagRun run : cleared) {
      String workflowId = WorkflowIds.forDagRun(run.dagId(), run.runId());
      seen.add(workflowId);
      try {
        if ("queued".equals(run.state())) {
          queued++;
          if (resume(run, workflowId)) {
            resumed++;
          } else {
            alreadyResuming++;
          }
        } else if (!Integer.valueOf(run.clearNumber()).equals(reported.get(workflowId))) {
          // Told once; a signal that did not arrive is tried again at the next sweep.
          if (signal(run, workflowId)) {
            signalled++;
            reported.put(workflowId, run.clearNumber());
          }
        }
      } catch (RuntimeException e) {
        failed++;
        log.warn("Could not hand cleared DagRun {} of {} to Temporal (next sweep tries again): {}", run.runId(),
            run.dagId(), e.toString());
      }
    }
    reported.keySet().retainAll(seen);
    int waitsResumed = 0;
    for (Map.Entry<String, Set<String>> run : resumedWaits().entrySet()) {
      if (run.getValue().equals(resumedReported.get(run.getKey()))) {
        continue;
      }
      try {
        client.newUntypedWorkflowStub(run.getKey()).signal(OwnedDagRunWorkflow.RESUMED_SIGNAL);
        waitsResumed++;
      } catch (WorkflowNotFoundException e) {
        log.warn("Airflow resumed {} of workflow {}, but it is not running: its run stays running until its workflow "
            + "is started again", run.getValue(), run.getKey());
      } catch (RuntimeException e) {
        failed++;
        log.warn("Could not tell workflow {} that Airflow resumed {} (next sweep tries again): {}", run.getKey(),
            run.getValue(), e.toString());
        continue;
      }
      resumedReported.put(run.getKey(), run.getValue());
    }
    metrics.clearedRunsSweep(resumed, signalled, failed);
    return new ClearedRunsSweepSummary(queued, resumed, alreadyResuming, signalled, failed, waitsResumed);
  }

  /** The tries Airflow resumed in running external runs, by workflow id; drops what is no longer resumed. */
  private Map<String, Set<String>> resumedWaits() {
    Map<String, Set<String>> byWorkflow = new TreeMap<>();
    for (ResumedTaskInstance ti : waiting.resumedInRunningExternalRuns()) {
      DagRunKey run = ti.run();
      byWorkflow.computeIfAbsent(WorkflowIds.forDagRun(run.dagId(), run.runId()), id -> new TreeSet<>())
          .add(ti.ref().label() + " try " + ti.tryNumber() + " at " + ti.scheduledAt());
    }
    resumedReported.keySet().retainAll(byWorkflow.keySet());
    return byWorkflow;
  }

  /** @return false when a workflow for the run is already running (it resumes the run, or is about to end) */
  private boolean resume(DagRun run, String workflowId) {
    OwnedDagRunWorkflow workflow = client.newWorkflowStub(OwnedDagRunWorkflow.class, WorkflowOptions.newBuilder()
        .setWorkflowId(workflowId)
        .setTaskQueue(taskQueue)
        // The run's earlier workflows are closed: this is the same DagRun going on, so its id is reused ...
        .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
        // ... but never beside a workflow still open under it.
        .setWorkflowIdConflictPolicy(WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
        .build());
    try {
      WorkflowClient.start(workflow::run, request(run), OwnedDagRunCarry.clearedRun());
    } catch (WorkflowExecutionAlreadyStarted e) {
      return false;
    }
    log.info("DagRun {} of {} was cleared (clear_number {}): started workflow {} to resume it", run.runId(),
        run.dagId(), run.clearNumber(), workflowId);
    return true;
  }

  /** @return false when no workflow drives the run (it is left as Airflow has it) */
  private boolean signal(DagRun run, String workflowId) {
    try {
      client.newUntypedWorkflowStub(workflowId).signal(OwnedDagRunWorkflow.CLEARED_SIGNAL, run.clearNumber());
      return true;
    } catch (WorkflowNotFoundException e) {
      log.warn("DagRun {} of {} was cleared while running, but no workflow {} is running it: it stays running "
          + "until its workflow is started again", run.runId(), run.dagId(), workflowId);
      return false;
    }
  }

  /** The run's own request, as its first workflow was started with (the resumed workflow does not create it). */
  static OwnedDagRunRequest request(DagRun run) {
    return new OwnedDagRunRequest(ContractVersion.CURRENT, run.dagId(), run.runId(), conf(run.confJson()),
        utc(run.logicalDate()), utc(run.runAfter()),
        run.triggeredBy() == null ? null : run.triggeredBy().toLowerCase(Locale.ROOT), run.triggeringUserName());
  }

  private static JsonNode conf(String confJson) {
    if (confJson == null) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      return JSON.readTree(confJson);
    } catch (JsonProcessingException e) {
      return JsonNodeFactory.instance.objectNode();
    }
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }
}
