package dev.airflowtemporal.workflows.view;

import dev.airflowtemporal.core.wire.AttemptKey;
import dev.airflowtemporal.core.wire.AttemptView;
import io.temporal.workflow.Workflow;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The attempts a DagRun workflow started, for its {@code view} query: kept in workflow state as each
 * activity is scheduled and ends, so the query reads no history. Only derived from what the workflow
 * does anyway (no command of its own), so recording it changes no history.
 */
public final class AttemptLog {
  /** The latest attempts kept; older ones are counted, not shown (a run of thousands of mapped tries). */
  static final int KEPT = 500;

  private final List<AttemptView> attempts = new ArrayList<>();
  private int omitted;

  /** An attempt's activity was scheduled now. */
  public void started(AttemptKey key, String queue) {
    attempts.add(new AttemptView(key.taskId(), key.mapIndex(), key.tryNumber(), "running", queue, now(), null,
        null));
    if (attempts.size() > KEPT) {
      attempts.remove(0);
      omitted++;
    }
  }

  /** The latest running attempt of {@code key} ended now in {@code state}; one never started is added ended. */
  public void ended(AttemptKey key, String state, String detail) {
    for (int i = attempts.size() - 1; i >= 0; i--) {
      AttemptView a = attempts.get(i);
      if (a.endedAt() == null && a.taskId().equals(key.taskId()) && a.mapIndex() == key.mapIndex()
          && a.tryNumber() == key.tryNumber()) {
        attempts.set(i, new AttemptView(a.taskId(), a.mapIndex(), a.tryNumber(), state, a.queue(), a.startedAt(),
            now(), detail));
        return;
      }
    }
    attempts.add(new AttemptView(key.taskId(), key.mapIndex(), key.tryNumber(), state, null, null, now(), detail));
  }

  public List<AttemptView> attempts() {
    return List.copyOf(attempts);
  }

  public int omitted() {
    return omitted;
  }

  /** Workflow time, as an ISO timestamp on the wire. */
  public static OffsetDateTime at(Instant instant) {
    return instant == null ? null : OffsetDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  private static OffsetDateTime now() {
    return at(Instant.ofEpochMilli(Workflow.currentTimeMillis()));
  }
}
