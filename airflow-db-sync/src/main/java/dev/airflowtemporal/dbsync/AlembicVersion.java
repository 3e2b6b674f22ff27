package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Airflow's {@code alembic_version}: the migration head its schema is at (read only). */
@Entity
@Table(name = "alembic_version")
public class AlembicVersion {
  @Id
  @Column(name = "version_num")
  private String versionNum;

  protected AlembicVersion() {}

  public String versionNum() {
    return versionNum;
  }
}
