package dev.airflowtemporal.workflows.schedule;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.airflowtemporal.core.RunIds;
import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.schedule.RunDates;
import dev.airflowtemporal.core.wire.ContractVersion;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.common.SearchAttributeKey;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.ChildWorkflowStub;
import io.temporal.workflow.Workflow;
import java.time.OffsetDateTime;
import org.slf4j.Logger;

public class ScheduledDagRunWorkflowImpl implements ScheduledDagRunWorkflow {
  /**
   * The workflow type of {@code dev.airflowtemporal.workflows.owned}'s Temporal-owned DagRun. Started
   * by name so that a firing only depends on the type's contract: one {@link OwnedDagRunRequest}.
   */
  public static final String OWNED_DAG_RUN_WORKFLOW_TYPE = "OwnedDagRun";

  /** Set by Temporal on every workflow a schedule starts: the time the firing was due. */
  static final SearchAttributeKey<OffsetDateTime> SCHEDULED_START_TIME =
      SearchAttributeKey.forOffsetDateTime("TemporalScheduledStartTime");

  private static final Logger log = Workflow.getLogger(ScheduledDagRunWorkflowImpl.class);

  @Override
  public String run(ScheduledDagRunRequest request) {
    // Read from the workflow's start event, so it is the same on every replay.
    OffsetDateTime scheduledTime = Workflow.getTypedSearchAttributes().get(SCHEDULED_START_TIME);
    if (scheduledTime == null) {
      throw ApplicationFailure.newNonRetryableFailure(
          "started without the TemporalScheduledStartTime search attribute: only a Temporal Schedule starts this workflow",
          "NotScheduled");
    }
    RunDates dates = request.schedule().runDatesOf(scheduledTime.toInstant());
    String runId = RunIds.external(dates.logicalDate());
    String workflowId = WorkflowIds.forDagRun(request.dagId(), runId);
    OwnedDagRunRequest run = new OwnedDagRunRequest(ContractVersion.CURRENT, request.dagId(), runId,
        JsonNodeFactory.instance.objectNode(), dates.logicalDate(), dates.runAfter(), "timetable", null);

    ChildWorkflowStub child = Workflow.newUntypedChildWorkflowStub(OWNED_DAG_RUN_WORKFLOW_TYPE,
        ChildWorkflowOptions.newBuilder()
            .setWorkflowId(workflowId)
            // The DagRun outlives this firing: it is Airflow's run, not a step of ours.
            .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON)
            // One logical date is one DagRun: a firing handled before (even one whose run has
            // finished) must not create it again.
            .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
            .build());
    child.executeAsync(Void.class, run);
    try {
      child.getExecution().get();
      log.info("firing at {} of DAG {} started DagRun {}", dates.runAfter(), request.dagId(), workflowId);
    } catch (ChildWorkflowFailure e) {
      if (!(e.getCause() instanceof WorkflowExecutionAlreadyStarted)) {
        throw e;
      }
      log.info("firing at {} of DAG {}: DagRun {} already exists", dates.runAfter(), request.dagId(), workflowId);
    }
    return workflowId;
  }
}
