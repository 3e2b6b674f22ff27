package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.dbsync.QueueResult.Deferred;
import dev.airflowtemporal.dbsync.QueueResult.NotQueueable;
import dev.airflowtemporal.dbsync.QueueResult.PoolFull;
import dev.airflowtemporal.dbsync.QueueResult.Queued;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workflow's answer for each attempt it asked to start, from what db-sync did with it: queued it
 * ({@code TaskInstanceQueueing}), left it for a full pool, deferred it to the triggerer
 * ({@code TaskInstanceDeferral}), or found the TaskInstance in a state that does not start it.
 */
final class QueueAnswers {
  private static final Logger log = LoggerFactory.getLogger(QueueAnswers.class);

  private QueueAnswers() {}

  /** One answer per attempt of run {@code runId}, in the order of {@code attempts}, which {@code results} follows. */
  static List<QueueResult> of(String runId, List<AttemptToQueue> attempts,
      List<dev.airflowtemporal.dbsync.QueueResult> results, Instant queuedAt) {
    List<QueueResult> answers = new ArrayList<>(attempts.size());
    for (int i = 0; i < attempts.size(); i++) {
      answers.add(of(runId, attempts.get(i), results.get(i), queuedAt));
    }
    return answers;
  }

  private static QueueResult of(String runId, AttemptToQueue attempt, dev.airflowtemporal.dbsync.QueueResult result,
      Instant queuedAt) {
    if (result instanceof Queued queued) {
      return QueueResult.queued(attempt, queued.id(), queuedAt);
    }
    if (result instanceof PoolFull full) {
      log.info("{} of {} waits for pool '{}': needs {} slots, {} of {} open", attempt.taskId(), runId, full.pool(),
          full.requiredSlots(), full.openSlots(), full.totalSlots());
      return QueueResult.poolFull(attempt);
    }
    if (result instanceof Deferred) {
      log.info("{} try {} of {} starts in Airflow's triggerer", attempt.taskId(), attempt.tryNumber(), runId);
      return QueueResult.deferred(attempt);
    }
    NotQueueable other = (NotQueueable) result;
    return QueueResult.notQueueable(attempt, other.state(), other.tryNumber());
  }
}
