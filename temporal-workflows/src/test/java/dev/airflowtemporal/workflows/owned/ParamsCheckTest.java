package dev.airflowtemporal.workflows.owned;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@link ParamsCheck} does around Airflow's check (the check itself, with Airflow's Python:
 * {@code DagRunSyncActivitiesImplTest} and python-bridge's {@code test_params_check.py}).
 */
class ParamsCheckTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NO_SUCH_PYTHON = "/nonexistent/python-for-params-check";

  @Test
  void aDagWithoutParamsIsAcceptedWithoutStartingPython() throws Exception {
    ParamsCheck check = ParamsCheck.forPython(NO_SUCH_PYTHON);
    JsonNode conf = JSON.readTree("{\"anything\": 1}");
    assertThat(check.refusal(JSON.readTree("{\"dag\": {\"dag_id\": \"d\"}}"), conf)).isEmpty();
    assertThat(check.refusal(JSON.readTree("{\"dag\": {\"dag_id\": \"d\", \"params\": []}}"), conf)).isEmpty();
  }

  @Test
  void aPythonThatCannotStartIsReportedNamingTheCommand() {
    try (ParamsCheck check = ParamsCheck.forPython(NO_SUCH_PYTHON)) {
      assertThatThrownBy(() -> check.refusal(withParams(), null))
          .isInstanceOf(ParamsCheck.ParamsUncheckableException.class).hasMessageContaining(NO_SUCH_PYTHON);
    }
  }

  @Test
  void aCheckThatFailsIsReportedWithItsReason() {
    try (ParamsCheck check = new ParamsCheck(List.of("sh", "-c",
        "while read request; do echo '{\"error\": \"ModuleNotFoundError: No module named x\"}'; done"))) {
      assertThatThrownBy(() -> check.refusal(withParams(), null))
          .isInstanceOf(ParamsCheck.ParamsUncheckableException.class)
          .hasMessageEndingWith("failed: ModuleNotFoundError: No module named x");
    }
  }

  @Test
  void everyCheckIsAnsweredByTheSameProcess() throws Exception {
    // The stand-in refuses every conf, naming its pid.
    try (ParamsCheck check = new ParamsCheck(List.of("sh", "-c",
        "while read request; do echo \"{\\\"refusal\\\": \\\"pid $$\\\"}\"; done"))) {
      String first = check.refusal(withParams(), null).orElseThrow();
      assertThat(first).startsWith("pid ");
      assertThat(check.refusal(withParams(), JSON.readTree("{\"name\": \"x\"}"))).contains(first);
    }
  }

  private static JsonNode withParams() throws Exception {
    return JSON.readTree("{\"dag\": {\"params\": [[\"name\", {\"__class\": \"airflow.sdk.definitions.param.Param\"}]]}}");
  }
}
