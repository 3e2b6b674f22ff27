package dev.airflowtemporal.workflows.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.RunIds;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunProgress;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.owned.OwnedDagRunWorkflow;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.failure.ApplicationFailure;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.PrintWriter;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trigger DAG_ID}: starts a Temporal-owned DagRun ({@code run_type='external'}) and reports
 * whether Airflow's DB accepted it; with {@code --wait}, follows it to its end. The same request as
 * {@code airflow temporal trigger} sends.
 */
@Command(name = "trigger", mixinStandardHelpOptions = true,
    description = "Start a Temporal-owned DagRun of DAG_ID (no help from Airflow's scheduler); exit 0 once it "
        + "exists (with --wait: once it succeeded), 1 if it was refused or failed.")
final class TriggerCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = WireJson.newMapper();

  @Mixin
  TemporalOptions temporal;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DAG_ID")
  String dagId;

  @Option(names = "--conf", defaultValue = "{}", description = "The run's conf, a JSON object. Default: {}.")
  String conf;

  @Option(names = "--logical-date", description = "ISO-8601 date-time with offset. Default: now.")
  String logicalDate;

  @Option(names = "--run-id", description = "Default: external__<logical date>, as Airflow names runs.")
  String runId;

  @Option(names = "--wait", description = "Follow the run, printing task states as they change, until it ends.")
  boolean waitForEnd;

  @Option(names = "--poll-interval", defaultValue = "1", description = "Seconds between progress checks. Default: ${DEFAULT-VALUE}.")
  double pollIntervalSeconds;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    OwnedDagRunRequest request = request();
    ClientConfigProfile profile = StartupChecks.temporalProfile(temporal);
    WorkflowServiceStubs service = StartupChecks.temporal(profile);
    try {
      WorkflowClient client = temporal.client(service, profile);
      String workflowId = WorkflowIds.forDagRun(request.dagId(), request.runId());
      OwnedDagRunWorkflow workflow = client.newWorkflowStub(OwnedDagRunWorkflow.class, WorkflowOptions.newBuilder()
          .setWorkflowId(workflowId)
          .setTaskQueue(temporal.taskQueue)
          .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
          .build());
      try {
        WorkflowClient.start(workflow::run, request, null);
      } catch (WorkflowExecutionAlreadyStarted e) {
        throw new TriggerRefused("run '" + request.runId() + "' of DAG '" + request.dagId()
            + "' was already started (workflow " + workflowId + "): pick another --run-id");
      }
      out.printf("Started DagRun %s of %s (workflow %s)%n", request.runId(), request.dagId(), workflowId);
      out.flush();
      WorkflowStub untyped = WorkflowStub.fromTyped(workflow);
      String last = "";
      while (true) {
        OwnedDagRunProgress progress;
        try {
          progress = workflow.progress();
        } catch (WorkflowException e) {
          return ended(untyped, out);
        }
        if ("rejected".equals(progress.state())) {
          return ended(untyped, out);
        }
        if (!"creating".equals(progress.state()) && !waitForEnd) {
          out.println("DagRun is " + progress.state());
          return 0;
        }
        if ("success".equals(progress.state()) || "failed".equals(progress.state())) {
          return ended(untyped, out);
        }
        String line = progress.state() + ": " + progress.taskStates() + (progress.running().isEmpty() ? ""
            : " | " + String.join(", ", progress.running()));
        if (waitForEnd && !line.equals(last)) {
          out.println(line);
          out.flush();
          last = line;
        }
        TimeUnit.MILLISECONDS.sleep((long) (pollIntervalSeconds * 1000));
      }
    } finally {
      service.shutdownNow();
    }
  }

  /** The workflow's result, or why it was refused or failed, as the exit code. */
  private int ended(WorkflowStub workflow, PrintWriter out) {
    try {
      String state = workflow.getResult(10, TimeUnit.SECONDS, String.class);
      out.println("DagRun ended " + state);
      return "success".equals(state) ? 0 : 1;
    } catch (WorkflowException e) {
      Throwable cause = e;
      while (cause.getCause() != null) {
        cause = cause.getCause();
      }
      String message = cause instanceof ApplicationFailure failure ? failure.getOriginalMessage() : cause.getMessage();
      throw new TriggerRefused(message);
    } catch (TimeoutException e) {
      out.println("DagRun is still running");
      return 0;
    }
  }

  private OwnedDagRunRequest request() {
    JsonNode confJson;
    try {
      confJson = JSON.readTree(conf);
    } catch (JsonProcessingException e) {
      throw new TriggerRefused("--conf is not JSON: " + e.getOriginalMessage());
    }
    OffsetDateTime logical;
    try {
      logical = logicalDate == null ? OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS)
          : OffsetDateTime.parse(logicalDate);
    } catch (DateTimeParseException e) {
      throw new TriggerRefused("--logical-date '" + logicalDate + "' is not an ISO-8601 date-time with an offset, "
          + "e.g. 2026-11-23T08:00:00+00:00");
    }
    OwnedDagRunRequest request = new OwnedDagRunRequest(ContractVersion.CURRENT, dagId,
        Objects.requireNonNullElseGet(runId, () -> RunIds.external(logical)), confJson, logical, logical, "cli",
        System.getProperty("user.name"));
    if (!request.problems().isEmpty()) {
      throw new TriggerRefused(String.join("; ", request.problems()));
    }
    return request;
  }

  /** Refused before or by the workflow: one line, exit 1 (bad configuration exits 2). */
  static final class TriggerRefused extends RuntimeException {
    TriggerRefused(String message) {
      super(message);
    }
  }
}
