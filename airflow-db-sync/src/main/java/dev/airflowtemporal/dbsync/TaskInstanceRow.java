package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/**
 * Airflow 3.3's {@code task_instance} row: one per (dag_id, task_id, run_id, map_index), its
 * {@code id} a UUIDv7 that changes with each try. Only the columns Temporal-owned runs write or
 * read are mapped; the others are nullable or have a server default. Inserts go through
 * {@link TaskInstanceCreation#createAll}, which names every column it writes.
 */
@Entity
@Table(name = "task_instance")
class TaskInstanceRow {
  @Id
  @Column(name = "id")
  UUID id;

  @Column(name = "dag_id")
  String dagId;

  @Column(name = "task_id")
  String taskId;

  @Column(name = "run_id")
  String runId;

  @Column(name = "map_index")
  int mapIndex;

  @Column(name = "state")
  String state;

  @Column(name = "try_number")
  int tryNumber;

  @Column(name = "max_tries")
  Integer maxTries;

  @Column(name = "hostname")
  String hostname;

  @Column(name = "unixname")
  String unixname;

  @Column(name = "pool")
  String pool;

  @Column(name = "pool_slots")
  int poolSlots;

  @Column(name = "queue")
  String queue;

  @Column(name = "priority_weight")
  Integer priorityWeight;

  @Column(name = "operator")
  String operator;

  @Column(name = "custom_operator_name")
  String customOperatorName;

  @Column(name = "task_display_name")
  String taskDisplayName;

  @Column(name = "executor")
  String executor;

  @Column(name = "dag_version_id")
  UUID dagVersionId;

  @Column(name = "queued_dttm")
  Instant queuedAt;

  @Column(name = "scheduled_dttm")
  Instant scheduledAt;

  @Column(name = "start_date")
  Instant startDate;

  @Column(name = "end_date")
  Instant endDate;

  /** Seconds, as Airflow's float column. */
  @Column(name = "duration")
  Double duration;

  @Column(name = "updated_at")
  Instant updatedAt;

  /** Seconds a RetryPolicy chose for the next try's delay; null for the task's own retry_delay. */
  @Column(name = "retry_delay_override")
  Double retryDelayOverride;

  protected TaskInstanceRow() {}
}
