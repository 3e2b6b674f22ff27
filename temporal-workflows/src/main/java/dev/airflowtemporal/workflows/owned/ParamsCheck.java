package dev.airflowtemporal.workflows.owned;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.task.RunnerEnvironment;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Airflow's check of a new run's conf against its DAG's params ({@code DAG.create_dagrun}:
 * {@code params.deep_merge(conf).validate()}), for every Temporal-owned run the worker creates. The check is
 * Airflow's own, in Python ({@code python -m airflow_temporal.worker.params_check}, the one implementation
 * {@code airflow temporal trigger} uses too), rather than JSON Schema re-implemented here. It starts without the
 * worker's credentials ({@link RunnerEnvironment}): it reads only the params and the conf handed to it.
 */
public class ParamsCheck {
  public static final String MODULE = "airflow_temporal.worker.params_check";
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** Importing Airflow's serialization takes seconds; a loaded host may take more. */
  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  private final List<String> command;

  ParamsCheck(List<String> command) {
    this.command = List.copyOf(command);
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
    Path errors = null;
    try {
      errors = Files.createTempFile("airflow-params-check-", ".err");
      // Its error output (Airflow's warnings, a traceback) goes to a file: a pipe nobody reads could fill.
      ProcessBuilder builder = new ProcessBuilder(command).redirectError(errors.toFile());
      RunnerEnvironment.scrub(builder.environment());
      Process process = builder.start();
      try (OutputStream in = process.getOutputStream()) {
        in.write(JSON.writeValueAsBytes(request));
      }
      if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new ParamsUncheckableException(command + " did not answer within " + TIMEOUT.toSeconds() + " s");
      }
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        String err = Files.readString(errors, StandardCharsets.UTF_8).strip();
        throw new ParamsUncheckableException(command + " exited " + process.exitValue() + ": "
            + lastLine(err));
      }
      JsonNode refusal = JSON.readTree(out).path("refusal");
      return refusal.isTextual() ? Optional.of(refusal.asText()) : Optional.empty();
    } catch (IOException e) {
      throw new ParamsUncheckableException("cannot run " + command + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ParamsUncheckableException("interrupted while " + command + " ran");
    } finally {
      if (errors != null) {
        try {
          Files.deleteIfExists(errors);
        } catch (IOException e) {
          // a leftover temp file of a few lines: not worth failing the check for
        }
      }
    }
  }

  private static String lastLine(String text) {
    return text.substring(text.lastIndexOf('\n') + 1);
  }

  /** The check could not run on this host (no Python with airflow-temporal, a crash, a hang). */
  public static final class ParamsUncheckableException extends Exception {
    ParamsUncheckableException(String message) {
      super(message);
    }
  }
}
