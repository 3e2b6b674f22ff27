package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.JsonNode;
import dev.airflowtemporal.core.wire.AttemptKey;

/** Input of {@link TaskActivities#runTask}: the attempt to run and Airflow's workload for its runner. */
public record TaskAttempt(String dagId, String runId, AttemptKey attempt, JsonNode workload) {}
