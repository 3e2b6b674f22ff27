package dev.airflowtemporal.workflows.task;

/** The runner server cannot start or take a request; the message says why. The worker spawns instead. */
public final class RunnerServerUnavailableException extends Exception {
  RunnerServerUnavailableException(String message) {
    super(message);
  }
}
