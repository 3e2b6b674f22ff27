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
    ParamsCheck check = ParamsCheck.forPython(NO_SUCH_PYTHON);
    assertThatThrownBy(() -> check.refusal(withParams(), null))
        .isInstanceOf(ParamsCheck.ParamsUncheckableException.class).hasMessageContaining(NO_SUCH_PYTHON);
  }

  @Test
  void aCheckThatFailsIsReportedWithTheLastLineOfItsErrorOutput() {
    ParamsCheck check = new ParamsCheck(List.of("sh", "-c",
        "cat >/dev/null; echo first >&2; echo 'No module named x' >&2; exit 3"));
    assertThatThrownBy(() -> check.refusal(withParams(), null))
        .isInstanceOf(ParamsCheck.ParamsUncheckableException.class)
        .hasMessageEndingWith("exited 3: No module named x");
  }

  private static JsonNode withParams() throws Exception {
    return JSON.readTree("{\"dag\": {\"params\": [[\"name\", {\"__class\": \"airflow.sdk.definitions.param.Param\"}]]}}");
  }
}
