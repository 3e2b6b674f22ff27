package dev.airflowtemporal.dbsync;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.zip.InflaterInputStream;
import org.hibernate.SessionFactory;

/** Reads serialized DAGs the dag-processor wrote; never writes them. */
public final class SerializedDags {
  private final SessionFactory sessionFactory;

  public SerializedDags(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * The DAG's highest {@code version_number}, as Airflow's {@code DagVersion.get_latest_version}
   * picks it (not the newest {@code created_at}, which can tie).
   *
   * @throws UnknownDagException when the DAG was never parsed into this DB
   */
  public SerializedDag latest(String dagId) {
    return read(dagId, "order by v.versionNumber desc", null);
  }

  /**
   * One version of the DAG (a DagRun keeps running the version it was created from).
   *
   * @throws UnknownDagException when the DAG has no such version in this DB
   */
  public SerializedDag version(String dagId, UUID dagVersionId) {
    return read(dagId, "and v.id = :versionId", dagVersionId);
  }

  private SerializedDag read(String dagId, String versionClause, UUID dagVersionId) {
    Object[] row = sessionFactory.fromTransaction(session -> {
      var query = session.createSelectionQuery(
              "select s, v, d from SerializedDagRow s join DagVersionRow v on v.id = s.dagVersionId "
                  + "join DagRow d on d.dagId = v.dagId where v.dagId = :dagId " + versionClause, Object[].class)
          .setParameter("dagId", dagId);
      if (dagVersionId != null) {
        query.setParameter("versionId", dagVersionId);
      }
      return query.setMaxResults(1).uniqueResult();
    });
    if (row == null) {
      throw new UnknownDagException(dagId);
    }
    SerializedDagRow serialized = (SerializedDagRow) row[0];
    DagVersionRow version = (DagVersionRow) row[1];
    DagRow dag = (DagRow) row[2];
    return new SerializedDag(dagId, version.id, version.versionNumber, json(serialized), version.bundleName,
        version.bundleVersion, dag.relativeFileloc, Boolean.TRUE.equals(dag.paused));
  }

  /** The row's JSON as UTF-8, from {@code data} or, decompressed, from {@code data_compressed}. */
  static byte[] json(SerializedDagRow serialized) {
    return json(serialized.data, serialized.dataCompressed);
  }

  /** The JSON of a {@code serialized_dag} row's {@code data} or, decompressed, {@code data_compressed}. */
  static byte[] json(String data, byte[] dataCompressed) {
    return data != null ? data.getBytes(StandardCharsets.UTF_8) : inflate(dataCompressed);
  }

  /** Airflow compresses with Python's {@code zlib.compress}: a zlib stream, not raw deflate nor gzip. */
  private static byte[] inflate(byte[] compressed) {
    try (InputStream in = new InflaterInputStream(new ByteArrayInputStream(compressed))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(compressed.length * 4);
      in.transferTo(out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("serialized_dag.data_compressed is not a zlib stream", e);
    }
  }
}
