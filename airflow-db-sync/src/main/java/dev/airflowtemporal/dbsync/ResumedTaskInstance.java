package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.TaskInstanceRef;
import java.time.Instant;

/**
 * A task instance of a running external run that Airflow resumed from a wait: state {@code scheduled},
 * which only Airflow writes for such runs (its triggerer's event, a failed or timed-out trigger, a
 * Human-in-the-loop response or its timeout). Its workflow queues it, at the same try.
 *
 * @param scheduledAt {@code scheduled_dttm}: when Airflow resumed it (tells one resumption from the next)
 */
public record ResumedTaskInstance(DagRunKey run, TaskInstanceRef ref, int tryNumber, Instant scheduledAt) {}
