package dev.airflowtemporal.workflows.task;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Stops a process and every descendant it spawned (Airflow's supervisor forks the task process). */
final class ProcessTrees {
  private ProcessTrees() {}

  /**
   * SIGTERM to the whole tree, then SIGKILL to whatever is still alive after the grace period. The
   * root need not be our child (a forked runner is the runner server's); a handle remembers its
   * process's start time, so a pid reused meanwhile is never signalled.
   */
  static void kill(ProcessHandle root, Duration gracePeriod) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
    tree.add(root);
    tree.forEach(ProcessHandle::destroy);
    long deadline = System.nanoTime() + gracePeriod.toNanos();
    for (ProcessHandle handle : tree) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        try {
          handle.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | TimeoutException e) {
          // still alive: killed below
        }
      }
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    try {
      root.onExit().get(gracePeriod.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // SIGKILL cannot be refused; only a process stuck in the kernel outlives it, and waiting longer would not help
    }
  }
}
