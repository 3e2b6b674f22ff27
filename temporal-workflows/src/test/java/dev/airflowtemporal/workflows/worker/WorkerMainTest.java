package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.airflowtemporal.workflows.task.PreforkRunnerServer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WorkerMainTest extends WorkerCliRun {

  @Test
  void workerHelpExplainsEveryOption() {
    assertThat(run("worker", "--help")).isZero();
    for (String option : new String[] {"--address", "--namespace", "--profile", "--task-queue", "--queues",
        "--python", "--log-folder", "--db-url", "--max-concurrent-tasks", "--identity"}) {
      assertThat(out.toString()).contains(option);
    }
  }

  @Test
  void theClearedRunsSweepIsOnEveryTenSecondsByDefaultAndCanBeTurnedOffOrSlowedDown() {
    assertThat(run("worker", "--help")).isZero();
    assertThat(out.toString()).contains("--[no-]resume-cleared-runs").contains("--cleared-runs-sweep-interval");
    WorkerSettings defaults = parsedWorker();
    assertThat(defaults.resumeClearedRuns).isTrue();
    assertThat(defaults.clearedRunsSweepIntervalSeconds).isEqualTo(10);
    assertThat(parsedWorker("--no-resume-cleared-runs").resumeClearedRuns).isFalse();
    assertThat(parsedWorker("--resume-cleared-runs").resumeClearedRuns).isTrue();
    assertThat(parsedWorker("--cleared-runs-sweep-interval", "60").clearedRunsSweepIntervalSeconds).isEqualTo(60);
    assertThat(run("worker", "--cleared-runs-sweep-interval", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--cleared-runs-sweep-interval must be at least 1 second but was 0");
  }

  private static WorkerSettings parsedWorker(String... args) {
    CommandLine cli = WorkerMain.commandLine();
    String[] all = new String[args.length + 1];
    all[0] = "worker";
    System.arraycopy(args, 0, all, 1, args.length);
    cli.parseArgs(all);
    return ((WorkerCommand) cli.getSubcommands().get("worker").getCommand()).settings;
  }

  @Test
  void badOptionsExitNonZeroWithOneLineNamingTheSetting() {
    assertThat(run("worker", "--max-concurrent-tasks", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--max-concurrent-tasks must be at least 1").doesNotContain("\tat ");
  }

  @Test
  void aMissingPythonIsReportedBeforeAnythingConnects() {
    assertThat(run("check", "--python", "/nonexistent/python3")).isEqualTo(2);
    assertThat(err.toString()).contains("--python '/nonexistent/python3' cannot run Airflow's task runner");
  }

  @Test
  void aWorkerThatCannotReachTheDbExitsTwoAndStopsTheRunnerServerItStartedMeanwhile() {
    String venv = System.getenv("AT_VENV");
    assumeTrue(venv != null, "needs the bootstrap venv's Python (AT_VENV; scripts/test sets it)");
    assertThat(run("worker", "--python", venv + "/bin/python",
        "--db-url", "postgresql://airflow:hunter2@127.0.0.1:1/airflow")).isEqualTo(2);
    assertThat(err.toString()).contains("cannot connect to Airflow's metadata DB").doesNotContain("hunter2");
    assertThat(ProcessHandle.current().descendants()
        .filter(p -> p.info().commandLine().orElse("").contains(PreforkRunnerServer.MODULE))).isEmpty();
  }

  @Test
  void anUnknownOptionIsAUsageError() {
    assertThat(run("worker", "--adress", "x")).isEqualTo(2);
    assertThat(err.toString()).contains("'--adress'").contains("Possible solutions: --address");
  }

  @Test
  void triggerRefusesConfThatIsNotAJsonObjectBeforeContactingTemporal() {
    assertThat(run("trigger", "etl", "--conf", "[1, 2]", "--address", "127.0.0.1:1")).isEqualTo(1);
    assertThat(err.toString()).contains("conf must be a JSON object, got array [1,2]").doesNotContain("\tat ");
  }

  @Test
  void triggerRefusesConfThatIsNotJson() {
    assertThat(run("trigger", "etl", "--conf", "{oops", "--address", "127.0.0.1:1")).isEqualTo(1);
    assertThat(err.toString()).contains("--conf is not JSON");
  }

  @Test
  void triggerRefusesALogicalDateWithoutAnOffset() {
    assertThat(run("trigger", "etl", "--logical-date", "2026-11-23T08:00:00", "--address", "127.0.0.1:1")).isEqualTo(1);
    assertThat(err.toString()).contains("--logical-date '2026-11-23T08:00:00' is not an ISO-8601 date-time with an offset");
  }

  @Test
  void triggerWithTemporalUnreachableExitsTwoNamingTheAddress() {
    assertThat(run("trigger", "etl", "--address", "127.0.0.1:1")).isEqualTo(2);
    assertThat(err.toString()).contains("cannot reach Temporal at 127.0.0.1:1");
  }
}
