package dev.airflowtemporal.workflows.worker;

/** A startup check failed; the message names the setting to fix. The worker exits with code 2. */
final class StartupException extends RuntimeException {
  StartupException(String message) {
    super(message);
  }
}
