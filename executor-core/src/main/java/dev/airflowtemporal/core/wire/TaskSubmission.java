package dev.airflowtemporal.core.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Signal {@code submit_task}: the executor hands one task attempt to its DagRun's workflow.
 *
 * @param workload Airflow's {@code ExecuteTask} workload, passed through unchanged to the task
 *     runner; the Java side reads none of its fields.
 * @param externalExecutorId the id Airflow's scheduler gave this queueing of the attempt
 *     ({@code task_instance.external_executor_id}, committed with the QUEUED state): the same id handed
 *     over twice is one attempt, and a restarted scheduler finds the attempt by it. Null from executors
 *     that do not pre-assign it.
 */
public record TaskSubmission(
    int contractVersion,
    String dagId,
    String runId,
    AttemptKey attempt,
    String tiId,
    String queue,
    int priorityWeight,
    OffsetDateTime submittedAt,
    JsonNode workload,
    String externalExecutorId) {

  /** Every problem that makes this submission unusable; empty when it is valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    String versionProblem = ContractVersion.problemWith(contractVersion);
    if (versionProblem != null) {
      problems.add(versionProblem);
    }
    if (dagId == null || dagId.isBlank()) problems.add("dag_id is missing");
    if (runId == null || runId.isBlank()) problems.add("run_id is missing");
    if (attempt == null || attempt.taskId() == null || attempt.taskId().isBlank()) {
      problems.add("attempt.task_id is missing");
    } else if (attempt.tryNumber() < 1) {
      problems.add("attempt.try_number must be >= 1 but was " + attempt.tryNumber());
    }
    if (workload == null || !workload.isObject()) {
      problems.add("workload must be a JSON object (Airflow's ExecuteTask workload)");
    } else if (!"ExecuteTask".equals(workload.path("type").asText())) {
      problems.add("workload.type must be 'ExecuteTask' but was '" + workload.path("type").asText() + "'");
    }
    return problems;
  }
}
