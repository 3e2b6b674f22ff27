package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker JAR's {@code main} in a JVM of its own (logging initialises once per JVM, so not in this one): every
 * command's first line is its own, with no logging library's start-up report before it.
 */
class WorkerMainStartupOutputTest {

  @TempDir Path dir;

  @Test
  void helpPrintsTheUsageFirstAndNothingOnStderr() throws Exception {
    Output top = runMain("--help");
    assertThat(top.err).isEmpty();
    assertThat(top.out).startsWith("Usage: airflow-temporal-worker");

    Output worker = runMain("worker", "--help");
    assertThat(worker.err).isEmpty();
    assertThat(worker.out).startsWith("Usage: airflow-temporal-worker worker");
  }

  @Test
  void aCommandThatLogsStartsWithItsOwnLine() throws Exception {
    Output bad = runMain("worker", "--max-concurrent-tasks", "0");
    assertThat(bad.err.lines().findFirst()).hasValueSatisfying(
        line -> assertThat(line).contains("--max-concurrent-tasks must be at least 1"));
    assertThat(bad.err).doesNotContain("SLF4J");
  }

  private record Output(String out, String err) {}

  private Output runMain(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName()));
    command.addAll(List.of(args));
    Path out = dir.resolve("out-" + System.nanoTime());
    Path err = dir.resolve("err-" + System.nanoTime());
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the JVM exits").isTrue();
    return new Output(Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }
}
