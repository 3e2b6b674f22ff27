package dev.airflowtemporal.dbsync;

/** Airflow's metadata DB cannot be reached or logged into. */
public class DatabaseUnavailableException extends RuntimeException {
  public DatabaseUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
