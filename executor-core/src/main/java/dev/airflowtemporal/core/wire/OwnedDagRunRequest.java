package dev.airflowtemporal.core.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Input of the Temporal-owned DagRun workflow: create this DagRun ({@code run_type='external'}) and
 * drive it to the end. Sent by {@code airflow temporal trigger}, the worker JAR's {@code trigger}
 * command and the Schedules that mirror a DAG's timetable.
 *
 * @param runId {@link dev.airflowtemporal.core.RunIds#external}; the workflow id derives from it, so
 *     starting the same run twice is refused by Temporal before anything reaches the DB
 * @param conf the run's conf; must be a JSON object (null means {})
 * @param logicalDate null for a run without one; unique per DAG otherwise, as in Airflow
 * @param runAfter when the run was due (the trigger time for manual runs)
 * @param triggeredBy Airflow's {@code DagRunTriggeredByType} value: cli, timetable, rest_api, ...
 * @param triggeringUserName who asked for the run, if known
 */
public record OwnedDagRunRequest(
    int contractVersion,
    String dagId,
    String runId,
    JsonNode conf,
    OffsetDateTime logicalDate,
    OffsetDateTime runAfter,
    String triggeredBy,
    String triggeringUserName) {

  /** Airflow 3.3's {@code DagRunTriggeredByType} values. */
  public static final Set<String> TRIGGERED_BY =
      Set.of("cli", "operator", "rest_api", "ui", "test", "timetable", "asset", "backfill");

  /** Every problem that makes this request unusable; empty when it is valid. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    String versionProblem = ContractVersion.problemWith(contractVersion);
    if (versionProblem != null) {
      problems.add(versionProblem);
    }
    if (dagId == null || dagId.isBlank()) problems.add("dag_id is missing");
    if (runId == null || runId.isBlank()) problems.add("run_id is missing");
    if (conf != null && !conf.isNull() && !conf.isObject()) {
      problems.add("conf must be a JSON object, got " + conf.getNodeType().toString().toLowerCase()
          + " " + abbreviate(conf.toString()));
    }
    if (runAfter == null) problems.add("run_after is missing");
    if (triggeredBy == null || !TRIGGERED_BY.contains(triggeredBy)) {
      problems.add("triggered_by must be one of " + TRIGGERED_BY.stream().sorted().toList() + " but was " + triggeredBy);
    }
    return problems;
  }

  private static String abbreviate(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }
}
