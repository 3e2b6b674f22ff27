package dev.airflowtemporal.core.wire;

import java.util.List;

/**
 * Input of the DagRun workflow. The executor sends the identity fields and its settings; the
 * workflow fills {@code carried*} when it continues as new, so no submission waiting to start and
 * no outcome the executor has not acknowledged is lost.
 *
 * @param idleTimeoutSeconds how long the workflow waits for more submissions once every attempt
 *     ended and every outcome was acknowledged, before it completes (null: the worker's default)
 * @param continueAsNewAfterEvents history length after which the workflow stops starting attempts,
 *     lets the running ones finish and continues as new (null: the default, well below Temporal's
 *     51,200-event limit); Temporal's own continue-as-new suggestion triggers the same
 */
public record DagRunWorkflowInput(
    int contractVersion,
    String dagId,
    String runId,
    Long idleTimeoutSeconds,
    Long continueAsNewAfterEvents,
    List<TaskSubmission> carriedSubmissions,
    List<TaskOutcome> carriedOutcomes,
    Long carriedAcknowledgedSeq) {}
