package dev.airflowtemporal.dbsync;

/** A different DagRun already holds the run id (or the logical date) a new run asked for; nothing was written. */
public class RunAlreadyExistsException extends RuntimeException {
  public RunAlreadyExistsException(String message) {
    super(message);
  }
}
