package dev.airflowtemporal.core.wire;

/** Signal {@code cancel_task}: stop a running attempt (Airflow's {@code revoke_task}). */
public record TaskCancellation(int contractVersion, AttemptKey attempt, String reason) {}
