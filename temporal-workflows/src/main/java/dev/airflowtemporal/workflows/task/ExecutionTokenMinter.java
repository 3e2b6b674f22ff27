package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.workflows.child.JsonLinesChild;
import java.time.Duration;
import java.util.List;

/**
 * Signs the Execution API token of each Temporal-owned try on this host, through
 * {@code python -m airflow_temporal.worker.token_minter}: Airflow's own generator and signing key, in a
 * process of its own that no task process descends from. Task runners start without the signing key
 * ({@link RunnerEnvironment}); the token reaches the try's runner only in its 0600 workload file.
 * The minter starts with the first owned try (importing Airflow takes seconds) and again if it died.
 */
public final class ExecutionTokenMinter implements AutoCloseable {
  public static final String MODULE = "airflow_temporal.worker.token_minter";
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** The first answer waits for Airflow's import; later ones take milliseconds. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

  private final JsonLinesChild minter;

  ExecutionTokenMinter(List<String> command) {
    // The worker's own environment, signing key included.
    this.minter = new JsonLinesChild(new ProcessBuilder(command), ANSWER_TIMEOUT);
  }

  public static ExecutionTokenMinter forPython(String python) {
    return new ExecutionTokenMinter(List.of(python, "-m", MODULE));
  }

  /**
   * The runner's workload file content: the owned workload plus the try's token. Calls
   * {@code whileWaiting} every {@code step} until then (the activity heartbeats there: the first
   * token waits for the minter to import Airflow, the others for the tokens asked before).
   */
  ObjectNode withToken(Object ownedWorkload, String taskInstanceId, Duration step, Runnable whileWaiting)
      throws TokenUnavailableException, InterruptedException {
    ObjectNode file = JSON.valueToTree(ownedWorkload);
    JsonNode reply;
    try {
      reply = minter.ask(taskInstanceId, step, whileWaiting);
    } catch (JsonLinesChild.ChildUnavailableException e) {
      throw new TokenUnavailableException(e.getMessage());
    }
    if (!reply.hasNonNull("token")) {
      throw new TokenUnavailableException(reply.path("error").asText(reply.toString()));
    }
    file.put("token", reply.get("token").asText());
    return file;
  }

  @Override
  public void close() {
    minter.close();
  }

  /** No token can be signed for a try; the message says why. */
  static final class TokenUnavailableException extends Exception {
    TokenUnavailableException(String message) {
      super(message);
    }
  }
}
