package dev.airflowtemporal.dbsync;

/** The DAG has no serialized version in Airflow's metadata DB. */
public class UnknownDagException extends RuntimeException {
  public UnknownDagException(String dagId) {
    super("DAG '" + dagId + "' is not in Airflow's metadata DB: is it in the DAGs folder and parsed by the dag-processor?");
  }
}
