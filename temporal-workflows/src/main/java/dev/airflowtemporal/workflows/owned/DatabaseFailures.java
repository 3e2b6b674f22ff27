package dev.airflowtemporal.workflows.owned;

import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.Set;

/**
 * Sorts what a {@link DagRunSyncActivities} step threw into the one failure worth retrying — Airflow's
 * DB could not be reached, type {@link DagRunSyncActivities#DATABASE_UNAVAILABLE} — and permanent
 * failures, which are made non-retryable so that the workflow fails the run at once instead of
 * retrying a constraint, data or schema error (or a bug) until its retries run out.
 */
public final class DatabaseFailures {
  /**
   * SQLSTATE classes and codes of a DB that is (for now) out of reach, as PostgreSQL reports them:
   * connection exceptions (08), insufficient resources (53: too many connections, disk full), server
   * shutting down or starting (57P01-57P03), a statement cancelled by a timeout (57014), a
   * serialization failure or deadlock (40001, 40P01), a lock not available (55P03).
   */
  private static final Set<String> TRANSIENT_STATE_CLASSES = Set.of("08", "53");
  private static final Set<String> TRANSIENT_STATES = Set.of("57P01", "57P02", "57P03", "57014", "40001", "40P01",
      "55P03");

  private DatabaseFailures() {}

  /** The activities, with every failure they throw classified (for registration on the worker). */
  public static DagRunSyncActivities classifying(DagRunSyncActivities activities) {
    return (DagRunSyncActivities) Proxy.newProxyInstance(DagRunSyncActivities.class.getClassLoader(),
        new Class<?>[] {DagRunSyncActivities.class}, (proxy, method, args) -> {
          if (method.getDeclaringClass() == Object.class) {
            return method.invoke(activities, args);
          }
          try {
            return method.invoke(activities, args);
          } catch (InvocationTargetException e) {
            throw classify(e.getCause());
          }
        });
  }

  /**
   * @return the failure itself when it is already a Temporal {@link ApplicationFailure} (a run refused
   *     or cleared), a retryable {@link DagRunSyncActivities#DATABASE_UNAVAILABLE} failure when the DB
   *     was out of reach, else a non-retryable failure of the exception's class naming its cause
   */
  public static RuntimeException classify(Throwable failure) {
    if (failure instanceof ApplicationFailure applicationFailure) {
      return applicationFailure;
    }
    if (unavailable(failure)) {
      return ApplicationFailure.newFailureWithCause("Airflow's DB is out of reach: " + rootMessage(failure),
          DagRunSyncActivities.DATABASE_UNAVAILABLE, failure);
    }
    return ApplicationFailure.newNonRetryableFailureWithCause(rootMessage(failure), failure.getClass().getName(),
        failure);
  }

  /** Whether any exception in the chain says that the DB could not be reached rather than refused the step. */
  static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLTransientException || t instanceof SocketException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null
          && (TRANSIENT_STATES.contains(sql.getSQLState())
              || TRANSIENT_STATE_CLASSES.contains(sql.getSQLState().substring(0, Math.min(2, sql.getSQLState().length()))))) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root == failure ? String.valueOf(failure.getMessage())
        : failure.getMessage() + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
    return message;
  }
}
