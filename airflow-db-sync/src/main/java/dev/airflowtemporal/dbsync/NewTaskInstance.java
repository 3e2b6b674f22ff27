package dev.airflowtemporal.dbsync;

import java.util.Objects;

/**
 * A TaskInstance to create, with what Airflow's {@code TaskInstance.insert_mapping} copies from the
 * task (the serialized DAG, defaults applied).
 *
 * @param maxTries the task's {@code retries}
 * @param operator the task's type, e.g. {@code PythonOperator} or {@code _PythonDecoratedOperator}
 * @param customOperatorName the task's {@code operator_name}: the decorator's name (e.g. {@code @task}), else
 *     the task's type
 * @param displayName the task's {@code task_display_name}, else its task id
 * @param executor the task's {@code executor=}, or null for the default
 */
public record NewTaskInstance(String taskId, int mapIndex, String pool, int poolSlots, String queue,
                              int priorityWeight, int maxTries, String operator, String customOperatorName,
                              String displayName, String executor) {
  public NewTaskInstance {
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(pool, "pool");
  }
}
