package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.UUID;

/** Airflow's {@code dag_version} row (read only): one per parsed change of a DAG, numbered from 1. */
@Entity
@Table(name = "dag_version")
class DagVersionRow {
  @Id
  @Column(name = "id")
  UUID id;

  @Column(name = "dag_id")
  String dagId;

  @Column(name = "version_number")
  int versionNumber;

  @Column(name = "bundle_name")
  String bundleName;

  @Column(name = "bundle_version")
  String bundleVersion;

  protected DagVersionRow() {}
}
