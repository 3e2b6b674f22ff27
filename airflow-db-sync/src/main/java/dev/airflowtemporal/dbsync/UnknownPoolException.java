package dev.airflowtemporal.dbsync;

/** A task names a pool that does not exist in Airflow's metadata DB. */
public class UnknownPoolException extends RuntimeException {
  public UnknownPoolException(String pool) {
    super("pool '" + pool + "' does not exist in Airflow's metadata DB: create it (Admin > Pools, or "
        + "`airflow pools set`) or change the task's pool");
  }
}
