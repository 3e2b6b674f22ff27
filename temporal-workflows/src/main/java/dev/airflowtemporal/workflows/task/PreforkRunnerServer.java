package dev.airflowtemporal.workflows.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.wire.WireJson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker host's pre-forked runner, {@code python -m airflow_temporal.worker.runner_server}: a Python
 * process that has imported Airflow's task runners once and runs each attempt in one of its pooled
 * runners (long-lived forks of it, one attempt at a time), sparing each attempt an interpreter
 * start and a fork. The pid it reports is the pooled runner's: its process tree is exactly that
 * attempt's, and the server gives the runner another attempt only once the connection is closed. The worker starts it, talks to it over a Unix domain socket in
 * a directory only this user can enter, and restarts it when it stops answering; meanwhile
 * attempts are spawned as without it. The server exits when the worker does (it watches its stdin),
 * and so does every runner it forked ({@code --worker-pid}), though not when only the server stops.
 */
public final class PreforkRunnerServer implements AutoCloseable {
  public static final String MODULE = "airflow_temporal.worker.runner_server";

  private static final Logger log = LoggerFactory.getLogger(PreforkRunnerServer.class);
  private static final ObjectMapper JSON = WireJson.newMapper();
  /** Importing Airflow takes seconds, and much longer on a saturated host. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  /** A server that cannot start costs an interpreter start per try: not on every attempt. */
  private static final Duration DEFAULT_RESTART_BACKOFF = Duration.ofSeconds(30);
  /** A fork takes milliseconds; a server that has not answered by then is wedged. */
  private static final Duration PID_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration PING_TIMEOUT = Duration.ofSeconds(5);

  private final List<String> command;
  private final Duration restartBackoff;
  private final ExecutorService restarter = Executors.newSingleThreadExecutor(runnable -> daemon(runnable, "runner-server-restart"));
  private final AtomicBoolean restarting = new AtomicBoolean();
  // guarded by this
  private Path directory;
  private Process process;
  private long startedAtNanos;
  private boolean closed;

  /**
   * @param command the server command without its socket options, normally
   *     {@code [python, -m, airflow_temporal.worker.runner_server]}
   * @param restartBackoff the least time between two starts
   */
  PreforkRunnerServer(List<String> command, Duration restartBackoff) {
    this.command = List.copyOf(command);
    this.restartBackoff = restartBackoff;
  }

  public static PreforkRunnerServer forPython(String python) {
    return new PreforkRunnerServer(List.of(python, "-m", MODULE), DEFAULT_RESTART_BACKOFF);
  }

  /** Starts the server, or starts it again, and returns once it answers a ping. */
  public synchronized void start() throws RunnerServerUnavailableException, InterruptedException {
    if (closed) {
      throw new RunnerServerUnavailableException("the worker is stopping");
    }
    stopProcess();
    try {
      if (directory == null) {
        directory = Files.createTempDirectory("airflow-runner-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      List<String> argv = new ArrayList<>(command);
      argv.addAll(List.of("--socket", socket().toString(), "--exit-with-stdin",
          "--worker-pid", String.valueOf(ProcessHandle.current().pid())));
      // stdin stays an open pipe for as long as this JVM lives: the server exits at its EOF.
      ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
      RunnerEnvironment.scrub(builder.environment()); // every runner it forks inherits this environment
      process = builder.start();
    } catch (IOException e) {
      throw new RunnerServerUnavailableException("cannot start " + command + ": " + e.getMessage());
    }
    startedAtNanos = System.nanoTime();
    ServerOutput output = new ServerOutput(process);
    Thread outputDrainer = daemon(output, "runner-server-output");
    outputDrainer.start();
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (!ping()) {
      if (!process.isAlive()) {
        outputDrainer.join(TimeUnit.SECONDS.toMillis(2));
        throw new RunnerServerUnavailableException(command + " exited with code " + process.exitValue()
            + (output.lastLine().isEmpty() ? "" : ": " + output.lastLine()));
      }
      if (System.nanoTime() > deadline) {
        stopProcess();
        throw new RunnerServerUnavailableException(command + " did not answer within " + START_TIMEOUT.toSeconds() + " s");
      }
      Thread.sleep(100);
    }
    log.info("Runner server pid {} answers on {}", process.pid(), socket());
  }

  /** Whether the server answers a ping now. */
  public boolean ping() {
    try (SocketChannel channel = connect()) {
      send(channel, Map.of("ping", true));
      CompletableFuture<String> reply = readLineAsync(channel);
      JsonNode pong = JSON.readTree(reply.get(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
      return pong != null && pong.has("pong");
    } catch (IOException | ExecutionException | TimeoutException | RunnerServerUnavailableException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Asks the server to run {@code argv} ({@code [-m, MODULE, ARG...]}, the spawned runner's command
   * line without the interpreter) and returns once it has forked the runner, calling
   * {@code whileWaiting} every {@code step} until then (the activity heartbeats there; whatever it
   * throws is thrown, and the server kills a child whose pid it could not deliver).
   */
  ForkedRunner fork(List<String> argv, Duration step, Runnable whileWaiting)
      throws RunnerServerUnavailableException, InterruptedException {
    SocketChannel channel = connect();
    Path output = socket().resolveSibling("runner-" + UUID.randomUUID() + ".out");
    boolean forked = false;
    try {
      send(channel, Map.of("argv", argv, "output", output.toString()));
      CompletableFuture<JsonNode> forkReply = new CompletableFuture<>();
      CompletableFuture<Integer> exit = new CompletableFuture<>();
      daemon(() -> readReplies(channel, forkReply, exit), "runner-server-reply").start();
      JsonNode reply = awaitForkReply(forkReply, step, whileWaiting);
      if (!reply.has("pid")) {
        throw new RunnerServerUnavailableException("it refused the request: " + reply.path("error").asText(reply.toString()));
      }
      forked = true;
      return new ForkedRunner(reply.get("pid").asLong(), exit, channel, output);
    } catch (IOException e) {
      throw new RunnerServerUnavailableException("cannot send the request: " + e.getMessage());
    } finally {
      if (!forked) {
        closeQuietly(channel);
        try {
          Files.deleteIfExists(output);
        } catch (IOException e) {
          log.warn("Could not delete runner output file {}: {}", output, e.getMessage());
        }
      }
    }
  }

  /**
   * Restarts the server on a background thread unless it answers again (a passing hiccup) or a
   * restart is under way; not sooner than the restart backoff after its last start.
   */
  void restartInBackground() {
    if (!restarting.compareAndSet(false, true)) {
      return;
    }
    try {
      restarter.execute(() -> {
        try {
          if (ping()) {
            return;
          }
          long sinceStart;
          synchronized (this) {
            sinceStart = System.nanoTime() - startedAtNanos;
          }
          long wait = restartBackoff.toNanos() - sinceStart;
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          log.warn("Restarting the runner server; attempts are spawned until it answers");
          start();
        } catch (RunnerServerUnavailableException e) {
          log.warn("The runner server did not restart ({}); attempts are spawned meanwhile", e.getMessage());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          restarting.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      restarting.set(false); // closed: the worker is stopping
    }
  }

  /** Stops the server and removes its directory; forked runners still running are the activities' to stop. */
  @Override
  public void close() {
    restarter.shutdownNow();
    synchronized (this) {
      closed = true;
      stopProcess();
      if (directory != null) {
        try (Stream<Path> files = Files.walk(directory)) {
          files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
          log.warn("Could not remove {}: {}", directory, e.getMessage());
        }
      }
    }
  }

  /** Where the server listens; null before the first start. */
  synchronized Path socket() {
    return directory == null ? null : directory.resolve("runner.sock");
  }

  /** The server process, for tests that stop it behind the worker's back. */
  synchronized Process process() {
    return process;
  }

  private JsonNode awaitForkReply(CompletableFuture<JsonNode> forkReply, Duration step, Runnable whileWaiting)
      throws RunnerServerUnavailableException, InterruptedException {
    long deadline = System.nanoTime() + PID_TIMEOUT.toNanos();
    while (true) {
      try {
        return forkReply.get(step.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        throw (RunnerServerUnavailableException) e.getCause();
      } catch (TimeoutException e) {
        if (System.nanoTime() > deadline) {
          // Killed, it cannot fork later behind our back; a pid it did send still arrives.
          log.warn("The runner server has not answered a request for {} s: stopping it", PID_TIMEOUT.toSeconds());
          synchronized (this) {
            stopProcess();
          }
          try {
            return forkReply.get(PING_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
          } catch (ExecutionException | TimeoutException stopped) {
            throw new RunnerServerUnavailableException("it did not answer within " + PID_TIMEOUT.toSeconds() + " s");
          }
        }
        whileWaiting.run();
      }
    }
  }

  /** Completes forkReply with the first reply and exit with the exit code the second one tells. */
  private void readReplies(SocketChannel channel, CompletableFuture<JsonNode> forkReply, CompletableFuture<Integer> exit) {
    BufferedReader replies = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
    JsonNode first = readReply(replies);
    if (first == null) {
      forkReply.completeExceptionally(new RunnerServerUnavailableException("it closed the connection without answering"));
      return;
    }
    forkReply.complete(first);
    if (!first.has("pid")) {
      return;
    }
    JsonNode second = readReply(replies);
    if (second != null && second.has("exit_code")) {
      exit.complete(second.get("exit_code").asInt());
      return;
    }
    if (!channel.isOpen()) {
      return; // the activity closed it: it has stopped waiting
    }
    // The server has gone, its runner lives on: wait for the runner itself, whose exit code is lost.
    log.warn("The runner server stopped while runner pid {} ran", first.get("pid").asLong());
    restartInBackground();
    ProcessHandle.of(first.get("pid").asLong()).map(ProcessHandle::onExit)
        .orElse(CompletableFuture.completedFuture(null))
        .thenRun(() -> exit.complete(null));
  }

  private static JsonNode readReply(BufferedReader replies) {
    try {
      String line = replies.readLine();
      return line == null ? null : JSON.readTree(line);
    } catch (IOException e) {
      return null; // reset or closed: the same as no reply
    }
  }

  private SocketChannel connect() throws RunnerServerUnavailableException {
    Path socket = socket();
    if (socket == null) {
      throw new RunnerServerUnavailableException("not started");
    }
    try {
      SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        channel.connect(UnixDomainSocketAddress.of(socket));
        return channel;
      } catch (IOException e) {
        channel.close();
        throw e;
      }
    } catch (IOException e) {
      throw new RunnerServerUnavailableException("cannot connect to " + socket + ": " + e.getMessage());
    }
  }

  private static void send(SocketChannel channel, Object request) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  private static CompletableFuture<String> readLineAsync(SocketChannel channel) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8)).readLine();
      } catch (IOException e) {
        return null;
      }
    }, runnable -> daemon(runnable, "runner-server-ping").start());
  }

  // guarded by this
  private void stopProcess() {
    if (process == null) {
      return;
    }
    // It ignores SIGTERM (so that a SIGTERM to the worker's process group does not stop it while the
    // worker drains) and holds nothing worth a graceful stop: its runners live in their own sessions.
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("Closing the runner server connection: {}", e.getMessage());
    }
  }

  private static Thread daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    return thread;
  }

  /** Logs what the server prints (its start line, a traceback if it dies) and keeps the last line. */
  private static final class ServerOutput implements Runnable {
    private final Process process;
    private volatile String lastLine = "";

    ServerOutput(Process process) {
      this.process = process;
    }

    @Override
    public void run() {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          log.info("runner server: {}", line);
          if (!line.isBlank()) {
            lastLine = line.strip();
          }
        }
      } catch (IOException e) {
        // the server has gone
      }
    }

    String lastLine() {
      return lastLine;
    }
  }
}
