package dev.airflowtemporal.core.wire;

import java.util.List;

/**
 * Result of query {@code progress(after_seq)}: attempts still running and the outcomes numbered
 * after {@code after_seq}. One query per active DagRun is all the executor's heartbeat costs.
 *
 * @param externalExecutorIds the {@code external_executor_id} of every attempt the workflow holds,
 *     whatever {@code after_seq}: waiting to start, running, or ended with an outcome not yet
 *     acknowledged. A restarted scheduler adopts a task instance only when its id is here.
 */
public record DagRunProgress(
    List<AttemptKey> running, List<TaskOutcome> outcomes, long lastSeq, List<String> externalExecutorIds) {}
