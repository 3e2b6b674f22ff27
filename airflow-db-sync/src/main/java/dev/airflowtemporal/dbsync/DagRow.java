package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Airflow's {@code dag} row (read only): where a DAG's file lives and whether it is paused. */
@Entity
@Table(name = "dag")
class DagRow {
  @Id
  @Column(name = "dag_id")
  String dagId;

  @Column(name = "is_paused")
  Boolean paused;

  @Column(name = "bundle_name")
  String bundleName;

  @Column(name = "relative_fileloc")
  String relativeFileloc;

  protected DagRow() {}
}
