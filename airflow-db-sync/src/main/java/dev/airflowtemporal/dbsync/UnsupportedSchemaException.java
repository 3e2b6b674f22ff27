package dev.airflowtemporal.dbsync;

/** Airflow's metadata DB is at a migration this worker was not built for; nothing was written. */
public class UnsupportedSchemaException extends RuntimeException {
  public UnsupportedSchemaException(String message) {
    super(message);
  }
}
