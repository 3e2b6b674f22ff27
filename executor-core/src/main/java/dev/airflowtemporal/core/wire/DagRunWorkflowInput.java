package dev.airflowtemporal.core.wire;

import java.util.List;

/**
 * Input of the DagRun workflow. The executor sends only the identity fields; the workflow fills
 * {@code carried*} when it continues as new, so no outcome the executor has not acknowledged is lost.
 *
 * @param idleTimeoutSeconds how long the workflow waits for more submissions once every attempt
 *     ended and every outcome was acknowledged, before it completes (null: the worker's default)
 */
public record DagRunWorkflowInput(
    int contractVersion,
    String dagId,
    String runId,
    Long idleTimeoutSeconds,
    List<TaskOutcome> carriedOutcomes,
    Long carriedAcknowledgedSeq) {

  public static DagRunWorkflowInput of(String dagId, String runId) {
    return new DagRunWorkflowInput(ContractVersion.CURRENT, dagId, runId, null, List.of(), 0L);
  }
}
