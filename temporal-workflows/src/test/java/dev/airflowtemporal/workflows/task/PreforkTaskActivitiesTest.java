package dev.airflowtemporal.workflows.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.airflowtemporal.core.wire.AttemptKey;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The task activity with a real runner server ({@code python -m airflow_temporal.worker.runner_server},
 * without preloading Airflow): a small target module stands in for the runner module, and writes
 * down its pid and its parent's, so each test sees whether the runner was forked by the server or
 * spawned by the JVM.
 */
class PreforkTaskActivitiesTest {
  private static final String TARGET = "attempt_target";

  @TempDir
  Path tmp;

  private Path python;
  private PreforkRunnerServer server;
  private TestActivityEnvironment env;
  private final LiveRunners liveRunners = new LiveRunners("reattach-queue", Duration.ofMillis(100), Duration.ofSeconds(5),
      Duration.ofSeconds(60));

  @BeforeEach
  void pythonWithTheBridgeAndTheTargetOnItsPath() throws Exception {
    // One interpreter for the server and for spawned runners, both finding the target module.
    Path targets = Files.createDirectories(tmp.resolve("targets"));
    python = tmp.resolve("python");
    Files.writeString(python, """
        #!/bin/sh
        PYTHONPATH='%s:%s' exec '%s' "$@"
        """.formatted(targets, bridge(), Optional.ofNullable(System.getenv("AIRFLOW_TEMPORAL_TEST_PYTHON")).orElse("python3")));
    Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwx------"));
  }

  @AfterEach
  void tearDown() {
    liveRunners.close();
    if (env != null) {
      env.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void anAttemptIsForkedByTheServerAndGetsItsExitCodeAndOutputTail() throws Exception {
    target("""
        import os, sys
        open(%s, 'w').write(f'{os.getpid()} {os.getppid()}')
        print('loading dag', flush=True); print('ImportError: no module named pandas', file=sys.stderr); sys.exit(3)
        """.formatted(quoted(tmp.resolve("pids.txt"))));
    startServer();

    TaskAttemptResult result = run(attempt("dag_id=d/run_id=r/task_id=t/attempt=1.log"));

    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.reason()).contains("exited with code 3");
    assertThat(result.outputTail()).isEqualTo("loading dag\nImportError: no module named pandas");
    assertThat(parentPid()).isEqualTo(server.process().pid());
    assertThat(Files.readString(tmp.resolve("logs/dag_id=d/run_id=r/task_id=t/attempt=1.log"))).contains("pandas");
    try (var left = Files.list(server.socket().getParent())) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly("runner.sock");
    }
  }

  @Test
  void aForkedAttemptThatExitsZeroSucceeds() throws Exception {
    target("import json, sys; json.load(open(sys.argv[sys.argv.index('--json-path') + 1]))");
    startServer();
    TaskAttemptResult result = run(attempt("ok.log"));
    assertThat(result.exitCode()).isZero();
    assertThat(result.reason()).isNull();
  }

  @Test
  void cancellationKillsTheForkedRunnerAndEveryProcessItSpawned() throws Exception {
    Path pids = tmp.resolve("tree.txt");
    target("""
        import os, subprocess, time
        child = subprocess.Popen(['sleep', '300'])
        open(%s, 'w').write(f'{os.getpid()} {child.pid}')
        time.sleep(300)
        """.formatted(quoted(pids)));
    startServer();
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(), liveRunners));
    TaskActivities activities = env.newActivityStub(TaskActivities.class, options());
    CompletableFuture<TaskAttemptResult> result = CompletableFuture.supplyAsync(() -> activities.runTask(attempt("c.log")));
    for (int i = 0; i < 300 && !Files.exists(pids); i++) {
      Thread.sleep(100);
    }
    String[] pidText = Files.readString(pids).trim().split(" ");
    ProcessHandle runner = ProcessHandle.of(Long.parseLong(pidText[0])).orElseThrow();
    ProcessHandle child = ProcessHandle.of(Long.parseLong(pidText[1])).orElseThrow();
    assertThat(runner.parent().map(ProcessHandle::pid)).contains(server.process().pid());

    env.requestCancelActivity();

    assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(CanceledFailure.class);
    runner.onExit().get(15, TimeUnit.SECONDS);
    child.onExit().get(15, TimeUnit.SECONDS);
    assertThat(runner.isAlive()).isFalse();
    assertThat(child.isAlive()).isFalse();
    assertThat(server.ping()).isTrue();
  }

  @Test
  void withTheServerDownTheAttemptIsSpawnedAndTheServerIsRestarted() throws Exception {
    target("""
        import os
        open(%s, 'w').write(f'{os.getpid()} {os.getppid()}')
        """.formatted(quoted(tmp.resolve("pids.txt"))));
    startServer();
    Process first = server.process();
    first.destroyForcibly().waitFor();

    TaskAttemptResult result = run(attempt("down.log"));

    assertThat(result.exitCode()).isZero();
    assertThat(parentPid()).isEqualTo(ProcessHandle.current().pid());
    for (int i = 0; i < 300 && !server.ping(); i++) {
      Thread.sleep(100);
    }
    assertThat(server.ping()).isTrue();
    assertThat(server.process().pid()).isNotEqualTo(first.pid());
  }

  @Test
  void aServerThatStopsMidAttemptLeavesTheRunnerToFinishAndReportsTheExitCodeAsUnknown() throws Exception {
    Path started = tmp.resolve("started");
    Path finished = tmp.resolve("finished");
    target("""
        import time
        open(%s, 'w').close()
        time.sleep(1.5)
        print('done'); open(%s, 'w').close()
        """.formatted(quoted(started), quoted(finished)));
    startServer();
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(), liveRunners));
    TaskActivities activities = env.newActivityStub(TaskActivities.class, options());
    CompletableFuture<TaskAttemptResult> result = CompletableFuture.supplyAsync(() -> activities.runTask(attempt("m.log")));
    for (int i = 0; i < 300 && !Files.exists(started); i++) {
      Thread.sleep(100);
    }
    server.process().destroyForcibly().waitFor();

    TaskAttemptResult ended = result.get(30, TimeUnit.SECONDS);

    assertThat(finished).exists();
    assertThat(ended.exitCode()).isNull();
    assertThat(ended.reason()).contains("runner server stopped");
    assertThat(ended.outputTail()).isEqualTo("done");
  }

  @Test
  void aServerThatCannotStartSaysWhy() {
    PreforkRunnerServer broken = new PreforkRunnerServer(
        List.of(python.toString(), "-c", "import sys; sys.exit('no airflow here')"), Duration.ZERO);
    try {
      assertThatThrownBy(broken::start).isInstanceOf(RunnerServerUnavailableException.class)
          .hasMessageContaining("exited with code 1").hasMessageContaining("no airflow here");
    } finally {
      broken.close();
    }
  }

  // -- helpers --

  private void startServer() throws Exception {
    server = new PreforkRunnerServer(List.of(python.toString(), "-m", PreforkRunnerServer.MODULE, "--no-preload",
        "--allow-module", TARGET), Duration.ZERO);
    server.start();
  }

  private void target(String script) throws Exception {
    Files.writeString(tmp.resolve("targets").resolve(TARGET + ".py"), script.stripIndent());
  }

  private long parentPid() throws Exception {
    return Long.parseLong(Files.readString(tmp.resolve("pids.txt")).trim().split(" ")[1]);
  }

  private TaskAttemptResult run(TaskAttempt attempt) {
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(), liveRunners));
    return env.newActivityStub(TaskActivities.class, options()).runTask(attempt);
  }

  private RunnerSettings settings() {
    List<String> command = List.of(python.toString(), "-m", TARGET);
    return new RunnerSettings(command, command, tmp.resolve("logs"), Duration.ofMillis(100), Duration.ofSeconds(5), server,
        null, "reattach-queue");
  }

  private static ActivityOptions options() {
    return ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(2))
        .setHeartbeatTimeout(Duration.ofSeconds(10)).build();
  }

  private static Path bridge() {
    String root = System.getProperty("airflowtemporal.repoRoot");
    Path start = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("python-bridge/airflow_temporal"))) {
        return p.resolve("python-bridge");
      }
    }
    throw new IllegalStateException("python-bridge not found above " + start);
  }

  private static String quoted(Path path) {
    return "'" + path.toString().replace("'", "\\'") + "'";
  }

  private static TaskAttempt attempt(String logPath) {
    ObjectNode workload = JsonNodeFactory.instance.objectNode().put("type", "ExecuteTask").put("log_path", logPath);
    return new TaskAttempt("d", "r", new AttemptKey("t", -1, 1), workload);
  }
}
