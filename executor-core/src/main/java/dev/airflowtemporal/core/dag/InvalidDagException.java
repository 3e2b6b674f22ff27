package dev.airflowtemporal.core.dag;

/** A serialized DAG that cannot be turned into a {@link DagPlan}; the message names the culprit. */
public final class InvalidDagException extends RuntimeException {
  public InvalidDagException(String message) {
    super(message);
  }

  public InvalidDagException(String message, Throwable cause) {
    super(message, cause);
  }
}
