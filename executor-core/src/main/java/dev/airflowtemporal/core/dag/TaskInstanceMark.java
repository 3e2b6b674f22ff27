package dev.airflowtemporal.core.dag;


/**
 * A task instance settled without a runner: skipped, upstream_failed or removed by the trigger
 * rules, or success for a plain EmptyOperator (which Airflow never runs).
 */
public record TaskInstanceMark(TaskInstanceRef ref, TaskState state) {}
