package dev.airflowtemporal.workflows.task;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A runner the runner server forked (a pooled runner, which runs this attempt and later ones). It is
 * the server's child, not ours: the server tells the attempt's exit code over the request's
 * connection, and its output goes to a file only this user can read. The runner takes no other
 * attempt until {@link #close} has closed that connection, so {@link #kill} before it hits this
 * attempt only.
 */
final class ForkedRunner implements RunnerProcess {
  private static final Logger log = LoggerFactory.getLogger(ForkedRunner.class);

  private final long pid;
  /** Empty when the runner had already exited and been reaped when its pid arrived. */
  private final Optional<ProcessHandle> handle;
  private final CompletableFuture<Integer> exit;
  private final SocketChannel connection;
  private final Path output;

  ForkedRunner(long pid, CompletableFuture<Integer> exit, SocketChannel connection, Path output) {
    this.pid = pid;
    this.handle = ProcessHandle.of(pid);
    this.exit = exit;
    this.connection = connection;
    this.output = output;
  }

  Optional<ProcessHandle> handle() {
    return handle;
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public String how() {
    return "forked";
  }

  @Override
  public CompletableFuture<Integer> exit() {
    return exit;
  }

  @Override
  public void kill(Duration gracePeriod) throws InterruptedException {
    if (handle.isPresent()) {
      ProcessTrees.kill(handle.get(), gracePeriod);
    }
  }

  @Override
  public String outputTail() throws IOException {
    return OutputTail.ofFile(output);
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (IOException e) {
      log.debug("Closing the runner server connection: {}", e.getMessage());
    }
    try {
      Files.deleteIfExists(output);
    } catch (IOException e) {
      log.warn("Could not delete runner output file {}: {}", output, e.getMessage());
    }
  }
}
