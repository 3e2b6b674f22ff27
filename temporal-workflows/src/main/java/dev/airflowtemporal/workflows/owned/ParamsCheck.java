package dev.airflowtemporal.workflows.owned;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.child.JsonLinesChild;
import dev.airflowtemporal.workflows.task.RunnerEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Airflow's check of a new run's conf against its DAG's params ({@code DAG.create_dagrun}:
 * {@code params.deep_merge(conf).validate()}), for every Temporal-owned run the worker creates. The check is
 * Airflow's own, in Python ({@code python -m airflow_temporal.worker.params_check}, the one implementation
 * {@code airflow temporal trigger} uses too), rather than JSON Schema re-implemented here. That process starts at
 * the first run of a DAG with params and then serves every check, one JSON line each way (importing Airflow takes
 * seconds, a check milliseconds). It starts without the worker's credentials ({@link RunnerEnvironment}): it reads
 * only the params and the conf handed to it.
 */
public class ParamsCheck implements AutoCloseable {
  public static final String MODULE = "airflow_temporal.worker.params_check";
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** The first answer waits for Airflow's import, which a loaded host may take long for. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

  private final JsonLinesChild check;

  ParamsCheck(List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    RunnerEnvironment.scrub(builder.environment());
    this.check = new JsonLinesChild(builder, ANSWER_TIMEOUT);
  }

  public static ParamsCheck forPython(String python) {
    return new ParamsCheck(List.of(python, "-m", MODULE));
  }

  /**
   * @param serializedDag the DAG's serialized form ({@code serialized_dag.data})
   * @param conf the run's conf (null for none)
   * @return Airflow's refusal (its {@code ParamValidationError} message), or empty when Airflow would create the run
   * @throws ParamsUncheckableException when the check could not run on this host
   */
  public Optional<String> refusal(JsonNode serializedDag, JsonNode conf) throws ParamsUncheckableException {
    JsonNode params = serializedDag.path("dag").path("params");
    // No params: Airflow's check cannot fail (conf keys become params without a schema), and a run need not
    // wait for a Python start.
    if (params.isMissingNode() || params.isNull() || params.isEmpty()) {
      return Optional.empty();
    }
    Map<String, JsonNode> request = Map.of("params", params, "conf", conf == null ? NullNode.getInstance() : conf);
    JsonNode reply;
    try {
      reply = check.ask(JSON.writeValueAsString(request));
    } catch (JsonLinesChild.ChildUnavailableException e) {
      throw new ParamsUncheckableException(e.getMessage());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("parsed JSON is JSON again", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ParamsUncheckableException("interrupted while " + MODULE + " checked");
    }
    if (reply.hasNonNull("error")) {
      throw new ParamsUncheckableException(MODULE + " failed: " + reply.get("error").asText());
    }
    JsonNode refusal = reply.path("refusal");
    return refusal.isTextual() ? Optional.of(refusal.asText()) : Optional.empty();
  }

  /** Stops the check's process. */
  @Override
  public void close() {
    check.close();
  }

  /** The check could not run on this host (no Python with airflow-temporal, a crash, a hang). */
  public static final class ParamsUncheckableException extends Exception {
    ParamsUncheckableException(String message) {
      super(message);
    }
  }
}
