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
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The task activity against real child processes: a small Python script stands in for the runner's command line. */
class TaskActivitiesImplTest {
  @TempDir
  Path tmp;

  private TestActivityEnvironment env;
  private final LiveRunners liveRunners = new LiveRunners("reattach-queue", Duration.ofMillis(100), Duration.ofSeconds(5),
      Duration.ofSeconds(60));

  @AfterEach
  void tearDown() {
    liveRunners.close();
    if (env != null) {
      env.close();
    }
  }

  @Test
  void aRunnerThatExitsZeroSucceedsAndGetsTheWorkloadInAPrivateFileThatIsRemovedAfterwards() throws Exception {
    Path seen = tmp.resolve("seen.txt");
    TaskAttemptResult result = run(python("""
        import os, sys, stat
        path = sys.argv[sys.argv.index('--json-path') + 1]
        mode = stat.S_IMODE(os.stat(path).st_mode)
        open(%s, 'w').write(path + '\\n' + oct(mode) + '\\n' + open(path).read())
        """.formatted(quoted(seen))), attempt("x.log"));
    assertThat(result.exitCode()).isZero();
    assertThat(result.reason()).isNull();
    List<String> lines = Files.readAllLines(seen);
    assertThat(lines.get(1)).isEqualTo("0o600");
    assertThat(lines.get(2)).contains("\"type\":\"ExecuteTask\"");
    assertThat(Path.of(lines.get(0))).doesNotExist();
  }

  @Test
  void aRunnerThatExitsNonZeroFailsWithItsOutputTailAlsoWrittenToTheTaskLog() throws Exception {
    TaskAttemptResult result = run(python("""
        import sys
        print('loading dag'); print('ImportError: no module named pandas'); sys.exit(3)
        """), attempt("dag_id=d/run_id=r/task_id=t/attempt=1.log"));
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.reason()).contains("exited with code 3");
    assertThat(result.outputTail()).endsWith("ImportError: no module named pandas");
    String log = Files.readString(tmp.resolve("logs/dag_id=d/run_id=r/task_id=t/attempt=1.log"));
    assertThat(log).contains("\"level\":\"error\"").contains("exited with code 3").contains("pandas");
  }

  @Test
  void aRunnerThatCannotStartFailsWithTheFixInTheTaskLog() throws Exception {
    TaskAttemptResult result = run(List.of(tmp.resolve("no-such-python").toString(), "-m", "x"), attempt("t.log"));
    assertThat(result.exitCode()).isNull();
    assertThat(result.reason()).contains("cannot start the Airflow task runner").contains("--python");
    assertThat(Files.readString(tmp.resolve("logs/t.log"))).contains("cannot start the Airflow task runner");
  }

  @Test
  void aLogPathOutsideTheLogFolderIsNotWritten() throws Exception {
    run(List.of(tmp.resolve("no-such-python").toString()), attempt("../escaped.log"));
    assertThat(tmp.resolve("escaped.log")).doesNotExist();
  }

  @Test
  void cancellationKillsTheRunnerAndEveryProcessItSpawned() throws Exception {
    Path pids = tmp.resolve("pids.txt");
    List<String> command = python("""
        import os, subprocess, time
        child = subprocess.Popen(['sleep', '300'])
        open(%s, 'w').write(f'{os.getpid()} {child.pid}')
        time.sleep(300)
        """.formatted(quoted(pids)));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(command), liveRunners));
    TaskActivities activities = env.newActivityStub(TaskActivities.class, options());
    CompletableFuture<TaskAttemptResult> result = CompletableFuture.supplyAsync(() -> activities.runTask(attempt("c.log")));
    for (int i = 0; i < 300 && !Files.exists(pids); i++) {
      Thread.sleep(100);
    }
    String[] pidText = Files.readString(pids).trim().split(" ");
    ProcessHandle runner = ProcessHandle.of(Long.parseLong(pidText[0])).orElseThrow();
    ProcessHandle child = ProcessHandle.of(Long.parseLong(pidText[1])).orElseThrow();

    env.requestCancelActivity();

    assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(CanceledFailure.class);
    runner.onExit().get(15, TimeUnit.SECONDS);
    child.onExit().get(15, TimeUnit.SECONDS);
    assertThat(runner.isAlive()).isFalse();
    assertThat(child.isAlive()).isFalse();
  }

  @Test
  void aClaimForARunnerThisWorkerProcessDoesNotKnowReportsTheAttemptLost() {
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(List.of("unused")), liveRunners));
    TaskAttemptResult result = env.newActivityStub(TaskActivities.class, options())
        .reattachTask(new RunnerWhereabouts("reattach-queue", "no-such-runner", 4242, "elsewhere", null));
    assertThat(result.exitCode()).isNull();
    assertThat(result.reason()).startsWith("worker lost").contains("pid 4242 on elsewhere");
  }

  @Test
  void aLaterExecutionTakesOverARunningRunnerAndReportsItsOutcomeWithoutStartingAnother() throws Exception {
    Path starts = tmp.resolve("starts.txt");
    Path release = tmp.resolve("release");
    List<String> command = python("""
        import os, sys, time
        open(%s, 'a').write(f'{os.getpid()}\\n')
        while not os.path.exists(%s):
            time.sleep(0.05)
        print('finished'); sys.exit(3)
        """.formatted(quoted(starts), quoted(release)));
    TaskActivitiesImpl activities = new TaskActivitiesImpl(settings(command), liveRunners);
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(activities);
    CompletableFuture<RunnerWhereabouts> whereabouts = new CompletableFuture<>();
    List<RunnerWhereabouts> heartbeats = new java.util.concurrent.CopyOnWriteArrayList<>();
    env.setActivityHeartbeatListener(RunnerWhereabouts.class, w -> {
      heartbeats.add(w);
      if (w.pid() != 0) {
        whereabouts.complete(w); // the runner has started
      }
    });
    TaskActivities first = env.newActivityStub(TaskActivities.class, options());
    CompletableFuture.runAsync(() -> first.runTask(attempt("first.log"))); // never reports once claimed

    RunnerWhereabouts where = whereabouts.get(60, TimeUnit.SECONDS);
    TestActivityEnvironment later = TestActivityEnvironment.newInstance();
    try {
      later.registerActivitiesImplementations(activities);
      CompletableFuture<TaskAttemptResult> claimed = CompletableFuture.supplyAsync(
          () -> later.newActivityStub(TaskActivities.class, options()).reattachTask(where));
      Thread.sleep(1000); // the runner is still running when it is claimed
      Files.createFile(release);
      TaskAttemptResult result = claimed.get(60, TimeUnit.SECONDS);
      assertThat(result.exitCode()).isEqualTo(3);
      assertThat(result.outputTail()).isEqualTo("finished");
    } finally {
      later.close();
    }
    assertThat(where.reattachQueue()).isEqualTo("reattach-queue");
    // The very first heartbeat, before the runner started, already named it.
    assertThat(heartbeats.get(0).runnerId()).isEqualTo(where.runnerId());
    assertThat(heartbeats.get(0).pid()).isZero();
    assertThat(Files.readAllLines(starts)).containsExactly(String.valueOf(where.pid()));
    assertThat(liveRunners.size()).isZero();
  }

  // -- helpers --

  private TaskAttemptResult run(List<String> command, TaskAttempt attempt) {
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new TaskActivitiesImpl(settings(command), liveRunners));
    return env.newActivityStub(TaskActivities.class, options()).runTask(attempt);
  }

  private RunnerSettings settings(List<String> command) {
    return new RunnerSettings(command, command, tmp.resolve("logs"), Duration.ofMillis(100), Duration.ofSeconds(5), null,
        null, "reattach-queue");
  }

  private static ActivityOptions options() {
    return ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(2))
        .setHeartbeatTimeout(Duration.ofSeconds(10)).build();
  }

  private static List<String> python(String script) {
    return List.of(Optional.ofNullable(System.getenv("AIRFLOW_TEMPORAL_TEST_PYTHON")).orElse("python3"), "-c",
        script.stripIndent());
  }

  private static String quoted(Path path) {
    return "'" + path.toString().replace("'", "\\'") + "'";
  }

  private static TaskAttempt attempt(String logPath) {
    ObjectNode workload = JsonNodeFactory.instance.objectNode().put("type", "ExecuteTask").put("log_path", logPath);
    return new TaskAttempt("d", "r", new AttemptKey("t", -1, 1), workload);
  }
}
