package dev.airflowtemporal.workflows.owned;

import dev.airflowtemporal.core.dag.TaskState;
import java.time.Instant;
import java.util.List;

/**
 * A finished attempt as Airflow's DB shows it afterwards (see {@link DagRunSyncActivities#settleAttempt}).
 *
 * @param state the TI's state: success, failed, up_for_retry or skipped as the runner reported it,
 *     or what the worker set when the runner ended without reporting one
 * @param endDate when the attempt ended (the base of a retry delay)
 * @param retryDelayOverrideSeconds a RetryPolicy's delay the runner stored on the TI, if any
 * @param skippedTaskIds tasks of the run the attempt skipped through Airflow's API (branching,
 *     short-circuit), which the workflow must treat as settled
 */
public record SettledAttempt(String taskId, int mapIndex, int tryNumber, TaskState state, Instant endDate,
                             Double retryDelayOverrideSeconds, List<String> skippedTaskIds) {}
