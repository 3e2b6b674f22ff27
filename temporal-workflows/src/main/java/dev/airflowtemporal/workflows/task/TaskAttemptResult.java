package dev.airflowtemporal.workflows.task;

/**
 * How the runner process ended.
 *
 * @param exitCode the process exit code, or null when it could not be started
 * @param reason why the runner could not start or was stopped, else null
 * @param outputTail the last lines of the runner's combined stdout and stderr
 */
public record TaskAttemptResult(Integer exitCode, String reason, String outputTail) {

  public boolean succeeded() {
    return exitCode != null && exitCode == 0;
  }
}
