package dev.airflowtemporal.dbsync;

import java.util.UUID;

/**
 * Where a TaskInstance is now.
 *
 * @param id the current try's {@code task_instance.id}, which {@link TaskInstances#transition} takes
 * @param state Airflow's lowercase state, or {@link TaskInstances#NO_STATE} for SQL NULL
 */
public record TaskInstanceStatus(UUID id, String state, int tryNumber) {}
