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
import java.util.concurrent.locks.ReentrantLock;

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

  private final List<String> command;
  private final ReentrantLock lock = new ReentrantLock();
  // guarded by lock
  private Process process;
  private OutputStream requests;
  private BufferedReader replies;

  ExecutionTokenMinter(List<String> command) {
    this.command = List.copyOf(command);
  }

  public static ExecutionTokenMinter forPython(String python) {
    return new ExecutionTokenMinter(List.of(python, "-m", MODULE));
  }

  /**
   * The runner's workload file content: the owned workload plus the try's token. Calls
   * {@code whileWaiting} every {@code step} until then (the activity heartbeats there: the first
   * token waits for the minter to import Airflow, the others for the minter's lock).
   */
  ObjectNode withToken(Object ownedWorkload, String taskInstanceId, Duration step, Runnable whileWaiting)
      throws TokenUnavailableException, InterruptedException {
    ObjectNode file = JSON.valueToTree(ownedWorkload);
    while (!lock.tryLock(step.toMillis(), TimeUnit.MILLISECONDS)) {
      whileWaiting.run();
    }
    try {
      file.put("token", mint(taskInstanceId, step, whileWaiting));
    } finally {
      lock.unlock();
    }
    return file;
  }

  // guarded by lock
  private String mint(String taskInstanceId, Duration step, Runnable whileWaiting)
      throws TokenUnavailableException, InterruptedException {
    if (process == null || !process.isAlive()) {
      start();
    }
    JsonNode reply;
    try {
      requests.write((taskInstanceId + "\n").getBytes(StandardCharsets.UTF_8));
      requests.flush();
      BufferedReader from = replies;
      CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
        try {
          return from.readLine();
        } catch (IOException e) {
          return null;
        }
      });
      long deadline = System.nanoTime() + ANSWER_TIMEOUT.toNanos();
      String line;
      while (true) {
        try {
          line = answer.get(step.toMillis(), TimeUnit.MILLISECONDS);
          break;
        } catch (TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          whileWaiting.run();
        }
      }
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
    } catch (RuntimeException e) { // whileWaiting: the activity was cancelled; a reply may still be on its way
      stop();
      throw e;
    }
    if (reply.hasNonNull("token")) {
      return reply.get("token").asText();
    }
    throw new TokenUnavailableException(reply.path("error").asText(reply.toString()));
  }

  // guarded by lock
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

  // guarded by lock
  private void stop() {
    if (process != null) {
      process.destroyForcibly();
      process = null;
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      stop();
    } finally {
      lock.unlock();
    }
  }

  /** No token can be signed for a try; the message says why. */
  static final class TokenUnavailableException extends Exception {
    TokenUnavailableException(String message) {
      super(message);
    }
  }
}
