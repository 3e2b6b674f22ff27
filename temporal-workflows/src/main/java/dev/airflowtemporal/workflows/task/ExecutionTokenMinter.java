package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.wire.WireJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Signs the Execution API token of each Temporal-owned try on this host, through
 * {@code python -m airflow_temporal.token_minter}: Airflow's own generator and signing key, in a
 * process of its own that no task process descends from. Task runners start without the signing key
 * ({@link RunnerEnvironment}); the token reaches the try's runner only in its 0600 workload file.
 * The minter starts with the first owned try (importing Airflow takes seconds) and again if it died.
 */
public final class ExecutionTokenMinter implements AutoCloseable {
  public static final String MODULE = "airflow_temporal.token_minter";
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** The first answer waits for Airflow's import; later ones take milliseconds. */
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(120);

  private final List<String> command;
  // guarded by this
  private Process process;
  private OutputStream requests;
  private BufferedReader replies;

  ExecutionTokenMinter(List<String> command) {
    this.command = List.copyOf(command);
  }

  public static ExecutionTokenMinter forPython(String python) {
    return new ExecutionTokenMinter(List.of(python, "-m", MODULE));
  }

  /** The runner's workload file content: the owned workload plus the try's token. */
  ObjectNode withToken(Object ownedWorkload, String taskInstanceId) throws TokenUnavailableException, InterruptedException {
    ObjectNode file = JSON.valueToTree(ownedWorkload);
    file.put("token", mint(taskInstanceId));
    return file;
  }

  synchronized String mint(String taskInstanceId) throws TokenUnavailableException, InterruptedException {
    if (process == null || !process.isAlive()) {
      start();
    }
    JsonNode reply;
    try {
      requests.write((taskInstanceId + "\n").getBytes(StandardCharsets.UTF_8));
      requests.flush();
      BufferedReader from = replies;
      String line = CompletableFuture.supplyAsync(() -> {
        try {
          return from.readLine();
        } catch (IOException e) {
          return null;
        }
      }).get(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (line == null) {
        stop();
        throw new TokenUnavailableException(command + " exited (its reason is in the worker log)");
      }
      reply = JSON.readTree(line);
    } catch (IOException e) {
      stop();
      throw new TokenUnavailableException("cannot talk to " + command + ": " + e.getMessage());
    } catch (TimeoutException e) {
      stop();
      throw new TokenUnavailableException(command + " did not answer within " + ANSWER_TIMEOUT.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw new IllegalStateException("reading a line never fails", e.getCause());
    }
    if (reply.hasNonNull("token")) {
      return reply.get("token").asText();
    }
    throw new TokenUnavailableException(reply.path("error").asText(reply.toString()));
  }

  // guarded by this
  private void start() throws TokenUnavailableException {
    stop();
    try {
      // The worker's own environment, signing key included; its log lines go to the worker's stderr.
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new TokenUnavailableException("cannot start " + command + ": " + e.getMessage());
    }
    requests = process.getOutputStream();
    replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  // guarded by this
  private void stop() {
    if (process != null) {
      process.destroyForcibly();
      process = null;
    }
  }

  @Override
  public synchronized void close() {
    stop();
  }

  /** No token can be signed for a try; the message says why. */
  static final class TokenUnavailableException extends Exception {
    TokenUnavailableException(String message) {
      super(message);
    }
  }
}
