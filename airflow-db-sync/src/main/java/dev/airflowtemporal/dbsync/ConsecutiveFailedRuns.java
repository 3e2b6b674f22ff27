package dev.airflowtemporal.dbsync;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.hibernate.Session;

/**
 * Airflow's {@code DagRun._check_last_n_dagruns_failed}, which {@code DagRun.update_state} runs when it
 * fails a run: the DAG is paused once its last {@code max_consecutive_failed_dag_runs} runs (all run types,
 * latest {@code run_after} first, then highest id) have all failed, with the {@code paused} audit-log row
 * the scheduler writes. A limit of 0 (the default) turns it off. Written for a Temporal-owned run in the
 * transaction that fails it, so the count includes the run itself, as Airflow's flushed session does.
 */
final class ConsecutiveFailedRuns {
  private ConsecutiveFailedRuns() {}

  /**
   * Inside the caller's transaction, right after it ended a run of the DAG as {@code failed}.
   *
   * @return whether the DAG was paused
   */
  static boolean pauseDagIfLimitReached(Session session, String dagId) {
    return session.doReturningWork(connection -> {
      int limit = limit(connection, dagId);
      if (limit <= 0 || !lastRunsAllFailed(connection, dagId, limit)) {
        return false;
      }
      try (PreparedStatement pause = connection.prepareStatement("update dag set is_paused = true where dag_id = ?");
           PreparedStatement log = connection.prepareStatement("""
               insert into log (dttm, dag_id, event, owner, owner_display_name, extra)
               values (now(), ?, 'paused', 'scheduler', 'Scheduler', ?)""")) {
        pause.setString(1, dagId);
        pause.executeUpdate();
        log.setString(1, dagId);
        log.setString(2, "[('dag_id', '" + dagId + "'), ('is_paused', True)]");
        log.executeUpdate();
      }
      return true;
    });
  }

  /** The DAG's {@code max_consecutive_failed_dag_runs} ({@code [core] max_consecutive_failed_dag_runs_per_dag} when it set none). */
  private static int limit(Connection connection, String dagId) throws SQLException {
    try (PreparedStatement q = connection.prepareStatement(
        "select max_consecutive_failed_dag_runs from dag where dag_id = ?")) {
      q.setString(1, dagId);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? rs.getInt(1) : 0;
      }
    }
  }

  private static boolean lastRunsAllFailed(Connection connection, String dagId, int limit) throws SQLException {
    try (PreparedStatement q = connection.prepareStatement("""
        select count(*), count(*) filter (where state = 'failed') from (
          select state from dag_run where dag_id = ? order by run_after desc, id desc limit ?) last_runs""")) {
      q.setString(1, dagId);
      q.setInt(2, limit);
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getInt(1) >= limit && rs.getInt(2) == rs.getInt(1);
      }
    }
  }
}
