package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * Airflow 3.3's {@code dag_run} row: the columns Temporal-owned runs write or read. Columns left
 * out are nullable or have a server default ({@code span_status} 'not_started'), so an insert that
 * omits them stores what Airflow's own insert would, apart from {@code context_carrier} (no trace).
 */
@Entity
@Table(name = "dag_run")
class DagRunRow {
  /** {@code serial}: Airflow's own ids come from the same sequence. */
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  @Column(name = "id")
  Integer id;

  @Column(name = "dag_id")
  String dagId;

  @Column(name = "run_id")
  String runId;

  @Column(name = "run_type")
  String runType;

  @Column(name = "state")
  String state;

  @Column(name = "queued_at")
  Instant queuedAt;

  @Column(name = "logical_date")
  Instant logicalDate;

  @Column(name = "start_date")
  Instant startDate;

  @Column(name = "end_date")
  Instant endDate;

  @Column(name = "data_interval_start")
  Instant dataIntervalStart;

  @Column(name = "data_interval_end")
  Instant dataIntervalEnd;

  @Column(name = "run_after")
  Instant runAfter;

  @JdbcTypeCode(SqlTypes.JSON)
  @Column(name = "conf")
  String conf;

  /** SQLAlchemy stores the enum member's name (e.g. TIMETABLE), not its value. */
  @Column(name = "triggered_by")
  String triggeredBy;

  @Column(name = "triggering_user_name")
  String triggeringUserName;

  @Column(name = "bundle_version")
  String bundleVersion;

  @Column(name = "created_dag_version_id")
  UUID createdDagVersionId;

  @Column(name = "log_template_id")
  Integer logTemplateId;

  @Column(name = "clear_number")
  int clearNumber;

  @Column(name = "created_at")
  Instant createdAt;

  @Column(name = "updated_at")
  Instant updatedAt;

  protected DagRunRow() {}
}
