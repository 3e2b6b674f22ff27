package dev.airflowtemporal.workflows.owned;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link DagRunListeners} does with the listeners' process's answers, against stand-ins that record each
 * notification they get (the real process: python-bridge's test_dag_run_listeners.py, with a real listener plugin
 * test_e2e_owned_listeners.py).
 */
class DagRunListenersTest {
  @TempDir
  Path dir;

  /** A stand-in that records its pid and each request line it reads in {@code got}, answering {@code reply}. */
  private static DagRunListeners standIn(Path got, String reply, boolean exitAfterOne) {
    String loop = exitAfterOne ? "read -r line; " : "while IFS= read -r line; do ";
    String end = exitAfterOne ? "" : "done";
    return new DagRunListeners(List.of("sh", "-c",
        loop + "printf '%s %s\\n' $$ \"$line\" >> '" + got + "'; echo '" + reply + "'; " + end));
  }

  private static void notifyThree(DagRunListeners listeners) throws Exception {
    for (String state : List.of("running", "success", "failed")) {
      listeners.notify("d", "r", state, null).get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void withoutAnyDagRunHookTheProcessIsAskedOnceAndNeverStartedAgain() throws Exception {
    Path got = dir.resolve("got.jsonl");
    try (DagRunListeners listeners = standIn(got, "{\"called\": false, \"dag_run_hooks\": false}", true)) {
      notifyThree(listeners);
    }
    assertThat(Files.readAllLines(got)).hasSize(1);
  }

  @Test
  void withDagRunHooksEveryTransitionIsHandedToTheSameProcessInOrder() throws Exception {
    Path got = dir.resolve("got.jsonl");
    try (DagRunListeners listeners = standIn(got, "{\"called\": true}", false)) {
      notifyThree(listeners);
    }
    List<String> lines = Files.readAllLines(got);
    assertThat(lines).satisfiesExactly(
        line -> assertThat(line).contains("\"state\":\"running\""),
        line -> assertThat(line).contains("\"state\":\"success\""),
        line -> assertThat(line).contains("\"state\":\"failed\""));
    assertThat(lines.stream().map(line -> line.split(" ")[0]).distinct()).hasSize(1);
  }
}
