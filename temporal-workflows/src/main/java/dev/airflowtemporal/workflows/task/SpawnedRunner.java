package dev.airflowtemporal.workflows.task;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A runner the worker started as a new interpreter (no shell), its output drained through a pipe. */
final class SpawnedRunner implements RunnerProcess {
  static final String MASKED_OUTPUT_MODULE = "airflow_temporal.worker.masked_output";
  private static final Set<String> RUNNER_MODULES = Set.of(RunnerSettings.RUNNER_MODULE, RunnerSettings.OWNED_RUNNER_MODULE);

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
    ProcessBuilder builder = new ProcessBuilder(throughMasker(command)).redirectErrorStream(true);
    RunnerEnvironment.scrub(builder.environment());
    return new SpawnedRunner(builder.start());
  }

  /**
   * {@code [python, -m, RUNNER_MODULE, ARG...]} as {@code [python, -m, airflow_temporal.worker.masked_output,
   * --worker-pid, PID, RUNNER_MODULE, ARG...]}: its output then reaches us only as its tail through
   * Airflow's secrets masker, once the runner is done, and it dies with this worker process as a
   * forked runner does. Other commands are left as they are.
   */
  static List<String> throughMasker(List<String> command) {
    if (command.size() < 3 || !command.get(1).equals("-m") || !RUNNER_MODULES.contains(command.get(2))) {
      return command;
    }
    List<String> masked = new ArrayList<>(command);
    masked.addAll(2, List.of(MASKED_OUTPUT_MODULE, "--worker-pid", String.valueOf(ProcessHandle.current().pid())));
    return masked;
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
