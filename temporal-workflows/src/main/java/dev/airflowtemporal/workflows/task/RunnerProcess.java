package dev.airflowtemporal.workflows.task;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A started task runner: spawned by the worker, or forked by the runner server. */
interface RunnerProcess extends AutoCloseable {

  long pid();

  /** "spawned" or "forked", for the worker log. */
  String how();

  /** Completes with the exit code, or with null when the runner server stopped before telling it. */
  CompletableFuture<Integer> exit();

  /** SIGTERM to the runner's whole process tree, SIGKILL after the grace period. */
  void kill(Duration gracePeriod) throws InterruptedException;

  /** The runner's last output lines; asked for once it has exited. */
  String outputTail() throws IOException, InterruptedException;

  /** Releases what the runner left behind (its output file, the connection); never throws. */
  @Override
  void close();
}
