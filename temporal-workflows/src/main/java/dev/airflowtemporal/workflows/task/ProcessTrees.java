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

  /** SIGTERM to the whole tree, then SIGKILL to whatever is still alive after the grace period. */
  static void kill(Process root, Duration gracePeriod) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
    tree.add(root.toHandle());
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
    root.waitFor(gracePeriod.toMillis(), TimeUnit.MILLISECONDS);
  }
}
