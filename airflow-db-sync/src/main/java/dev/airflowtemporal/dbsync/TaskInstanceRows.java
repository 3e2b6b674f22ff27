package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import jakarta.persistence.LockModeType;
import org.hibernate.Session;
import org.hibernate.query.SelectionQuery;

/** Looks up one TaskInstance of a run by task and map index, for the TaskInstance stores' transactions. */
final class TaskInstanceRows {
  private TaskInstanceRows() {}

  static TaskInstanceRow findExisting(Session session, DagRunKey run, TaskInstanceRef key) {
    return requireExisting(byKey(session, run, key).uniqueResult(), run, key);
  }

  static TaskInstanceRow lockExisting(Session session, DagRunKey run, TaskInstanceRef key) {
    return requireExisting(byKey(session, run, key).setLockMode(LockModeType.PESSIMISTIC_WRITE).uniqueResult(),
        run, key);
  }

  static SelectionQuery<TaskInstanceRow> byKey(Session session, DagRunKey run, TaskInstanceRef key) {
    return session.createSelectionQuery("""
            from TaskInstanceRow t
            where t.dagId = :dagId and t.runId = :runId and t.taskId = :taskId and t.mapIndex = :mapIndex""",
            TaskInstanceRow.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .setParameter("taskId", key.taskId())
        .setParameter("mapIndex", key.mapIndex());
  }

  static TaskInstanceRow requireExisting(TaskInstanceRow ti, DagRunKey run, TaskInstanceRef key) {
    if (ti == null) {
      throw new IllegalArgumentException("DagRun " + run.dagId() + "/" + run.runId() + " has no TaskInstance "
          + key.taskId() + "[" + key.mapIndex() + "]: create the run's TaskInstances (createAll) first");
    }
    return ti;
  }

  static boolean exists(Session session, DagRunKey run, TaskInstanceRef key) {
    return byKey(session, run, key).uniqueResult() != null;
  }

}
