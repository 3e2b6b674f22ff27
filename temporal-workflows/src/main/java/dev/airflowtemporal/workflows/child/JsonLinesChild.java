package dev.airflowtemporal.workflows.child;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.WireJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A long-lived child process of the worker that answers each request line on its stdin with one JSON line on its
 * stdout: the worker's Python helpers ({@code python -m airflow_temporal.worker.token_minter}, ...), which import
 * Airflow once and then answer in milliseconds. It starts at the first request, again at the next request after
 * it died (or was stopped for not answering in time), and stops at {@link #close()}. One request at a time: a
 * caller waits for the one before to be answered. Its error output goes to the worker's stderr.
 *
 * <p>What the child may see is its caller's to decide, in the {@link ProcessBuilder} it hands over (its
 * environment: the worker's own, or one without credentials).
 */
public final class JsonLinesChild implements AutoCloseable {
  private static final ObjectMapper JSON = WireJson.newMapper();
  private static final Duration NO_STEP = Duration.ofDays(1);

  private final ProcessBuilder builder;
  private final List<String> command;
  private final Duration answerTimeout;
  private final ReentrantLock lock = new ReentrantLock();
  // guarded by lock
  private Running running;
  private boolean closed;

  /**
   * @param builder the child's command and environment (its stderr is set to the worker's)
   * @param answerTimeout how long a request may wait for its answer (the first one includes the child's start);
   *     a child that takes longer is stopped
   */
  public JsonLinesChild(ProcessBuilder builder, Duration answerTimeout) {
    this.builder = builder.redirectError(ProcessBuilder.Redirect.INHERIT);
    this.command = List.copyOf(builder.command());
    this.answerTimeout = answerTimeout;
  }

  /** The process, the pipe requests go down, and the replies a thread of its own has read (empty: EOF). */
  private record Running(Process process, OutputStream requests, BlockingQueue<Optional<String>> replies) {}

  /** {@link #ask(String, Duration, Runnable)} with nothing to do while it waits. */
  public JsonNode ask(String request) throws ChildUnavailableException, InterruptedException {
    return ask(request, NO_STEP, () -> { });
  }

  /**
   * Sends one request line and returns the child's JSON answer.
   *
   * @param request one line, without its newline
   * @param step how often to call {@code whileWaiting} while this waits for an earlier request or the answer
   * @param whileWaiting what to do meanwhile (an activity heartbeats); an exception it throws stops the child,
   *     whose answer could otherwise be taken for the next request's, and is rethrown
   * @throws ChildUnavailableException when the child cannot start, exits, does not answer in time or answers no
   *     JSON; the message says which, naming the command
   */
  public JsonNode ask(String request, Duration step, Runnable whileWaiting)
      throws ChildUnavailableException, InterruptedException {
    if (request.indexOf('\n') >= 0 || request.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("a request is one line: " + request);
    }
    while (!lock.tryLock(step.toMillis(), TimeUnit.MILLISECONDS)) {
      whileWaiting.run();
    }
    try {
      return answer(request, step, whileWaiting);
    } finally {
      lock.unlock();
    }
  }

  // guarded by lock
  private JsonNode answer(String request, Duration step, Runnable whileWaiting)
      throws ChildUnavailableException, InterruptedException {
    if (closed) {
      throw new ChildUnavailableException(command + " was stopped with the worker");
    }
    if (running == null || !running.process().isAlive()) {
      start();
    }
    Optional<String> line;
    try {
      running.requests().write((request + "\n").getBytes(StandardCharsets.UTF_8));
      running.requests().flush();
      long deadline = System.nanoTime() + answerTimeout.toNanos();
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          stop();
          throw new ChildUnavailableException(command + " did not answer within " + answerTimeout.toSeconds()
              + " s: stopped");
        }
        line = running.replies().poll(Math.min(left, step.toNanos()), TimeUnit.NANOSECONDS);
        if (line != null) {
          break;
        }
        whileWaiting.run();
      }
    } catch (IOException e) {
      stop();
      throw new ChildUnavailableException("cannot talk to " + command + ": " + e.getMessage());
    } catch (InterruptedException | RuntimeException e) { // the answer may still come: not for the next request
      stop();
      throw e;
    }
    if (line.isEmpty()) {
      stop();
      throw new ChildUnavailableException(command + " exited (its reason is in the worker log)");
    }
    try {
      return JSON.readTree(line.get());
    } catch (IOException e) {
      stop();
      throw new ChildUnavailableException(command + " answered no JSON line: " + e.getMessage());
    }
  }

  // guarded by lock
  private void start() throws ChildUnavailableException {
    stop();
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new ChildUnavailableException("cannot start " + command + ": " + e.getMessage());
    }
    BlockingQueue<Optional<String>> replies = new LinkedBlockingQueue<>();
    // A reader of its own: a request that times out leaves no reader behind to take a later answer.
    Thread reader = new Thread(() -> {
      try (BufferedReader from = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = from.readLine(); line != null; line = from.readLine()) {
          replies.add(Optional.of(line));
        }
      } catch (IOException e) {
        // the process was stopped under it: the same as its end
      }
      replies.add(Optional.empty());
    }, "child-replies-" + process.pid());
    reader.setDaemon(true);
    reader.start();
    running = new Running(process, process.getOutputStream(), replies);
  }

  // guarded by lock
  private void stop() {
    if (running != null) {
      running.process().destroyForcibly();
      running = null;
    }
  }

  /** Stops the child; a request after this fails. */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      stop();
    } finally {
      lock.unlock();
    }
  }

  /** The child could not answer a request; the message says why, naming its command. */
  public static final class ChildUnavailableException extends Exception {
    ChildUnavailableException(String message) {
      super(message);
    }
  }
}
