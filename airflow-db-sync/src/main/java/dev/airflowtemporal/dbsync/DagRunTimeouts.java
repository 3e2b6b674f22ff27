package dev.airflowtemporal.dbsync;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.UUID;
import org.hibernate.SessionFactory;

/**
 * Fails a Temporal-owned run that has exceeded its DAG's {@code dagrun_timeout}, as the timed-out branch
 * of Airflow's {@code SchedulerJobRunner._schedule_dag_run} does, in one transaction on the locked run row:
 * every unfinished task instance (None, scheduled, queued, running, deferred, ...) is set {@code skipped}
 * (only its state, as the scheduler sets it: a running try's runner is then told by its next Execution
 * API heartbeat to stop), the run {@code failed} with {@code end_date} now, and the DAG's failure callback
 * requested with reason {@code timed_out} ({@link DagCallbackRequests#writeForTimedOutRun}). Whether the
 * timeout has passed is the caller's decision (the owned run's state machine); the max_consecutive
 * failed runs check is not made, as the scheduler does not make it on this path.
 */
public final class DagRunTimeouts {
  private final SessionFactory sessionFactory;

  public DagRunTimeouts(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * Compare-and-set, as {@link DagRuns#finish}: only a run still {@code running} at
   * {@code expectedClearNumber} is failed.
   */
  public DagRuns.FinishOutcome timeOut(String dagId, String runId, int expectedClearNumber) {
    return sessionFactory.fromTransaction(session -> {
      DagRuns.FinishOutcome found = session.doReturningWork(connection -> {
        try (PreparedStatement q = connection.prepareStatement(
            "select state, clear_number from dag_run where dag_id = ? and run_id = ? for update")) {
          q.setString(1, dagId);
          q.setString(2, runId);
          try (ResultSet rs = q.executeQuery()) {
            if (!rs.next() || "success".equals(rs.getString(1)) || "failed".equals(rs.getString(1))) {
              return DagRuns.FinishOutcome.ENDED_ELSEWHERE;
            }
            return "running".equals(rs.getString(1)) && rs.getInt(2) == expectedClearNumber
                ? DagRuns.FinishOutcome.FINISHED : DagRuns.FinishOutcome.CLEARED;
          }
        }
      });
      if (found != DagRuns.FinishOutcome.FINISHED) {
        return found;
      }
      UUID relevantTi = session.doReturningWork(connection -> {
        // The scheduler's max(unfinished, key=start_date or datetime.min), taken before they are skipped.
        try (PreparedStatement last = connection.prepareStatement("select ti.id from task_instance ti "
            + "where ti.dag_id = ? and ti.run_id = ? and " + DagCallbackRequests.UNFINISHED
            + " order by ti.start_date desc nulls last, ti.task_id, ti.map_index limit 1");
             PreparedStatement skip = connection.prepareStatement("update task_instance ti set state = 'skipped', "
                 + "updated_at = now() where ti.dag_id = ? and ti.run_id = ? and " + DagCallbackRequests.UNFINISHED);
             PreparedStatement fail = connection.prepareStatement("update dag_run set state = 'failed', "
                 + "end_date = now(), updated_at = now() where dag_id = ? and run_id = ?")) {
          UUID id = null;
          last.setString(1, dagId);
          last.setString(2, runId);
          try (ResultSet rs = last.executeQuery()) {
            if (rs.next()) {
              id = rs.getObject(1, UUID.class);
            }
          }
          for (PreparedStatement update : new PreparedStatement[] {skip, fail}) {
            update.setString(1, dagId);
            update.setString(2, runId);
            update.executeUpdate();
          }
          return id;
        }
      });
      DagCallbackRequests.writeForTimedOutRun(session, dagId, runId, relevantTi);
      return DagRuns.FinishOutcome.FINISHED;
    });
  }
}
