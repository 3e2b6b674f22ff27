package dev.airflowtemporal.core.wire;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Map;
import dev.airflowtemporal.core.RunIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java half of the wire contract: the fixtures python-bridge's tests read too. */
class WireContractTest {
  private final ObjectMapper json = WireJson.newMapper();

  @ParameterizedTest
  @CsvSource({
      "task_submission.json, dev.airflowtemporal.core.wire.TaskSubmission",
      "task_cancellation.json, dev.airflowtemporal.core.wire.TaskCancellation",
      "dag_run_workflow_input.json, dev.airflowtemporal.core.wire.DagRunWorkflowInput",
      "dag_run_progress.json, dev.airflowtemporal.core.wire.DagRunProgress",
      "owned_dag_run_request.json, dev.airflowtemporal.core.wire.OwnedDagRunRequest",
      "owned_dag_run_progress.json, dev.airflowtemporal.core.wire.OwnedDagRunProgress",
      "owned_task_workload.json, dev.airflowtemporal.core.wire.OwnedTaskWorkload",
      "workload_run_callback.json, dev.airflowtemporal.core.wire.WorkloadRun",
      "workload_run_connection_test.json, dev.airflowtemporal.core.wire.WorkloadRun",
      "workload_outcome.json, dev.airflowtemporal.core.wire.WorkloadOutcome",
      "run_view.json, dev.airflowtemporal.core.wire.RunView",
  })
  void everyFixtureRoundTripsWithoutLosingAField(String fixture, Class<?> type) throws Exception {
    JsonNode original = json.readTree(WireFixtures.read(fixture));
    Object decoded = json.readValue(WireFixtures.read(fixture), type);
    JsonNode reencoded = json.valueToTree(decoded);
    assertSameJson(original, reencoded, fixture);
  }

  @Test
  void submissionDecodesSnakeCaseFieldsAndTimezoneAwareDatetimes() throws Exception {
    TaskSubmission submission = json.readValue(WireFixtures.read("task_submission.json"), TaskSubmission.class);
    assertThat(submission.dagId()).isEqualTo("example_temporal_chain");
    assertThat(submission.runId()).isEqualTo("manual__2026-11-23T05:00:00+00:00");
    assertThat(submission.attempt()).isEqualTo(new AttemptKey("extract", -1, 1));
    assertThat(submission.queue()).isNull();
    assertThat(submission.submittedAt()).isEqualTo(OffsetDateTime.parse("2026-11-23T05:00:01.25Z"));
    assertThat(submission.workload().path("ti").path("dag_version_id").asText()).startsWith("019ab3c2");
    assertThat(submission.externalExecutorId()).isEqualTo("019ab3c2-7d1f-7000-8000-0000000000a1");
    assertThat(submission.problems()).isEmpty();
  }

  @Test
  void unknownFieldsFromANewerPeerAreIgnoredAndOffsetsKept() throws Exception {
    TaskSubmission submission =
        json.readValue(WireFixtures.read("task_submission_routed_with_unknown_fields.json"), TaskSubmission.class);
    assertThat(submission.queue()).isEqualTo("special");
    assertThat(submission.externalExecutorId()).as("absent from an executor without one").isNull();
    assertThat(submission.attempt()).isEqualTo(new AttemptKey("pinned", 4, 2));
    assertThat(submission.submittedAt().toInstant()).isEqualTo(OffsetDateTime.parse("2026-11-23T05:00:00Z").toInstant());
    assertThat(submission.problems()).isEmpty();
  }

  @Test
  void callbacksAndConnectionTestsAreRunnableWorkloadsAndATaskIsNot() throws Exception {
    WorkloadRun callback = json.readValue(WireFixtures.read("workload_run_callback.json"), WorkloadRun.class);
    WorkloadRun connectionTest = json.readValue(WireFixtures.read("workload_run_connection_test.json"), WorkloadRun.class);
    assertThat(callback.problems()).isEmpty();
    assertThat(callback.label()).isEqualTo("callback 0192f2a4-7c1e-7b11-8e2f-3a4b5c6d7e8f");
    assertThat(connectionTest.problems()).isEmpty();
    assertThat(connectionTest.label()).isEqualTo("connection test warehouse_db");
    assertThat(connectionTest.queue()).isEqualTo("special");
    WorkloadRun task = new WorkloadRun(ContractVersion.CURRENT, null, json.readTree("{\"type\": \"ExecuteTask\"}"));
    assertThat(task.problems()).singleElement().asString()
        .contains("workload.type must be one of [ExecuteCallback, TestConnection] but was 'ExecuteTask'");
  }

  @Test
  void invalidSubmissionNamesEveryProblem() throws Exception {
    TaskSubmission submission = json.readValue(WireFixtures.read("task_submission_invalid.json"), TaskSubmission.class);
    assertThat(submission.problems()).satisfiesExactlyInAnyOrder(
        p -> assertThat(p).contains("contract_version 99 is not supported"),
        p -> assertThat(p).contains("run_id is missing"),
        p -> assertThat(p).contains("try_number must be >= 1"),
        p -> assertThat(p).contains("workload.type must be 'ExecuteTask'"));
  }

  @Test
  void progressOutcomeStatesUseAirflowStateNames() throws Exception {
    DagRunProgress progress = json.readValue(WireFixtures.read("dag_run_progress.json"), DagRunProgress.class);
    assertThat(progress.outcomes()).extracting(TaskOutcome::state)
        .containsExactly(OutcomeState.SUCCESS, OutcomeState.FAILED);
    assertThat(progress.outcomes().get(1).exitCode()).isNull();
    assertThat(progress.lastSeq()).isEqualTo(8);
    assertThat(progress.outcomes()).extracting(TaskOutcome::externalExecutorId)
        .containsExactly("019ab3c2-7d1f-7000-8000-0000000000a1", null);
    assertThat(progress.externalExecutorIds()).hasSize(2);
  }

  @Test
  void ownedRunRequestCarriesItsRunIdInAirflowsFormAndConfAsAnObject() throws Exception {
    OwnedDagRunRequest request = json.readValue(WireFixtures.read("owned_dag_run_request.json"), OwnedDagRunRequest.class);
    assertThat(request.problems()).isEmpty();
    assertThat(request.runId()).isEqualTo(RunIds.external(request.runAfter()));
    assertThat(request.conf().path("rows").size()).isEqualTo(3);
    assertThat(request.logicalDate().toInstant()).isEqualTo(request.runAfter().toInstant());
  }

  @Test
  void invalidOwnedRunRequestNamesEveryProblem() throws Exception {
    OwnedDagRunRequest request =
        json.readValue(WireFixtures.read("owned_dag_run_request_invalid.json"), OwnedDagRunRequest.class);
    assertThat(request.problems()).satisfiesExactlyInAnyOrder(
        p -> assertThat(p).contains("conf must be a JSON object, got array [1,2,3]"),
        p -> assertThat(p).contains("triggered_by must be one of").contains("but was scheduler"));
  }

  /** Equal JSON, except that datetimes compare as instants ("+00:00" and "Z" are the same time). */
  private static void assertSameJson(JsonNode expected, JsonNode actual, String path) {
    if (expected.isObject()) {
      assertThat(actual.isObject()).as(path).isTrue();
      for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        assertThat(actual.has(field.getKey())).as(path + "." + field.getKey() + " present").isTrue();
        assertSameJson(field.getValue(), actual.get(field.getKey()), path + "." + field.getKey());
      }
      assertThat(actual.size()).as(path + " field count").isEqualTo(expected.size());
    } else if (expected.isArray()) {
      assertThat(actual.size()).as(path + " length").isEqualTo(expected.size());
      for (int i = 0; i < expected.size(); i++) {
        assertSameJson(expected.get(i), actual.get(i), path + "[" + i + "]");
      }
    } else if (expected.isTextual() && looksLikeDatetime(expected.asText())) {
      assertThat(OffsetDateTime.parse(actual.asText()).toInstant()).as(path)
          .isEqualTo(OffsetDateTime.parse(expected.asText()).toInstant());
    } else if (expected.isNumber()) {
      assertThat(actual.decimalValue()).as(path).isEqualByComparingTo(expected.decimalValue());
    } else {
      assertThat(actual).as(path).isEqualTo(expected);
    }
  }

  private static boolean looksLikeDatetime(String text) {
    try {
      OffsetDateTime.parse(text);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }
}
