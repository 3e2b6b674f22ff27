package dev.airflowtemporal.core.wire;

/**
 * Result of the {@code ExecutorWorkload} workflow: how Airflow's runner for the workload ended (as
 * {@link TaskOutcome} says for an attempt). A connection test's own result is what the runner wrote
 * through the Execution API; a callback's failure reason becomes Airflow's {@code callback.output}.
 *
 * @param exitCode the runner's exit code, or null when it never started or was lost
 * @param reason why it failed without a clean runner exit, else null
 * @param outputTail the last lines the runner printed, through Airflow's secrets masker
 */
public record WorkloadOutcome(OutcomeState state, Integer exitCode, String reason, String outputTail) {}
