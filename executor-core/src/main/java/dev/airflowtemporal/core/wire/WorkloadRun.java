package dev.airflowtemporal.core.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Input of the {@code ExecutorWorkload} workflow: one workload Airflow's scheduler hands an executor
 * that is not a task attempt, run once on a worker by Airflow's own runner.
 *
 * @param queue the Airflow queue whose workers run it (a {@code TestConnection}'s queue), null for the
 *     default queue (an {@code ExecuteCallback} names none)
 * @param workload Airflow's {@code ExecuteCallback} or {@code TestConnection} workload, unchanged. A
 *     connection test carries only the connection's id and a token: the runner fetches the connection
 *     (once) from Airflow's Execution API, so no credential is in this payload.
 */
public record WorkloadRun(int contractVersion, String queue, JsonNode workload) {
  /** The workload types this workflow runs; {@code ExecuteTask} goes to the DagRun's workflow. */
  public static final Set<String> TYPES = Set.of("ExecuteCallback", "TestConnection");

  /** Every problem that makes this input unusable; empty when it is valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    String versionProblem = ContractVersion.problemWith(contractVersion);
    if (versionProblem != null) {
      problems.add(versionProblem);
    }
    if (workload == null || !workload.isObject()) {
      problems.add("workload must be a JSON object (Airflow's ExecuteCallback or TestConnection workload)");
    } else if (!TYPES.contains(workload.path("type").asText())) {
      problems.add("workload.type must be one of " + TYPES.stream().sorted().toList() + " but was '"
          + workload.path("type").asText() + "'");
    }
    return problems;
  }

  /** For logs and activity summaries, e.g. {@code callback 0191…} or {@code connection test my_db}. */
  public String label() {
    if (workload == null) {
      return "workload";
    }
    return switch (workload.path("type").asText()) {
      case "ExecuteCallback" -> "callback " + workload.path("callback").path("id").asText();
      case "TestConnection" -> "connection test " + workload.path("connection_id").asText();
      default -> workload.path("type").asText();
    };
  }
}
