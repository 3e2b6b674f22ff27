package dev.airflowtemporal.workflows.task;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A runner the worker started as a new interpreter (no shell), its output drained through a pipe. */
final class SpawnedRunner implements RunnerProcess {
  private final Process process;
  private final OutputTail tail;
  private final Thread drainer;

  private SpawnedRunner(Process process) {
    this.process = process;
    this.tail = new OutputTail(process.getInputStream());
    this.drainer = new Thread(tail, "runner-output-" + process.pid());
    drainer.setDaemon(true);
    drainer.start();
  }

  static SpawnedRunner start(List<String> command) throws IOException {
    return new SpawnedRunner(new ProcessBuilder(command).redirectErrorStream(true).start());
  }

  @Override
  public long pid() {
    return process.pid();
  }

  @Override
  public String how() {
    return "spawned";
  }

  @Override
  public CompletableFuture<Integer> exit() {
    return process.onExit().thenApply(Process::exitValue);
  }

  @Override
  public void kill(Duration gracePeriod) throws InterruptedException {
    ProcessTrees.kill(process.toHandle(), gracePeriod);
  }

  @Override
  public String outputTail() throws InterruptedException {
    drainer.join(TimeUnit.SECONDS.toMillis(5));
    return tail.text();
  }

  @Override
  public void close() {
    // The pipe closes with the process; the drainer ends on its own.
  }
}
