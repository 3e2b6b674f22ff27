package dev.airflowtemporal.core.wire;

import java.util.List;

/**
 * Result of query {@code progress(after_seq)}: attempts still running and the outcomes numbered
 * after {@code after_seq}. One query per active DagRun is all the executor's heartbeat costs.
 */
public record DagRunProgress(List<AttemptKey> running, List<TaskOutcome> outcomes, long lastSeq) {}
