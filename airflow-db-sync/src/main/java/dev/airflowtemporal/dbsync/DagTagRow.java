package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.Objects;

/** Airflow's {@code dag_tag} row (read only): one per tag of a DAG, written by the dag-processor. */
@Entity
@Table(name = "dag_tag")
@IdClass(DagTagRow.Key.class)
class DagTagRow {
  @Id
  @Column(name = "name")
  String name;

  @Id
  @Column(name = "dag_id")
  String dagId;

  protected DagTagRow() {}

  /** The table's primary key, (name, dag_id). */
  static final class Key implements Serializable {
    String name;
    String dagId;

    @Override
    public boolean equals(Object other) {
      return other instanceof Key key && Objects.equals(name, key.name) && Objects.equals(dagId, key.dagId);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, dagId);
    }
  }
}
