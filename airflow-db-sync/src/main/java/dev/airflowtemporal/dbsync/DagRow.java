package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Airflow's {@code dag} row (read only): where a DAG's file lives, whether it is paused or stale. */
@Entity
@Table(name = "dag")
class DagRow {
  @Id
  @Column(name = "dag_id")
  String dagId;

  @Column(name = "is_paused")
  Boolean paused;

  /** Set by the dag-processor when the DAG's file no longer defines it. */
  @Column(name = "is_stale")
  Boolean stale;

  @Column(name = "bundle_name")
  String bundleName;

  @Column(name = "relative_fileloc")
  String relativeFileloc;

  protected DagRow() {}
}
