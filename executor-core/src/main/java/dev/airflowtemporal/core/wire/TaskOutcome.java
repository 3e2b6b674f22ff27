package dev.airflowtemporal.core.wire;

import java.time.OffsetDateTime;

/**
 * The end of one attempt, numbered by {@code seq} (1, 2, ... per workflow) so the executor can page
 * through outcomes it has not seen yet.
 *
 * @param exitCode the runner's exit code, or null when it never started or was killed
 * @param reason why the attempt failed without a clean runner exit, else null
 * @param outputTail the last lines the runner printed (for the executor's log, never parsed)
 * @param externalExecutorId the submission's {@code external_executor_id}, or null when it had none
 */
public record TaskOutcome(
    long seq,
    AttemptKey attempt,
    OutcomeState state,
    Integer exitCode,
    String reason,
    String outputTail,
    OffsetDateTime finishedAt,
    String externalExecutorId) {}
