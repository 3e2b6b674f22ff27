package dev.airflowtemporal.dbsync;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * Airflow's {@code serialized_dag} row (read only). The DAG's JSON is in {@code data} (JSONB), or
 * zlib-compressed in {@code data_compressed} when {@code [core] compress_serialized_dags} is on.
 */
@Entity
@Table(name = "serialized_dag")
class SerializedDagRow {
  @Id
  @Column(name = "id")
  UUID id;

  @Column(name = "dag_id")
  String dagId;

  @Column(name = "dag_version_id")
  UUID dagVersionId;

  @JdbcTypeCode(SqlTypes.JSON)
  @Column(name = "data")
  String data;

  @Column(name = "data_compressed")
  byte[] dataCompressed;

  protected SerializedDagRow() {}
}
