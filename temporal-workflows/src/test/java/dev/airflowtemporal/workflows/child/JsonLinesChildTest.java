package dev.airflowtemporal.workflows.child;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The child protocol against a real Python child that answers, hangs, dies or mumbles on request. */
class JsonLinesChildTest {
  private static final Duration STEP = Duration.ofMillis(50);
  /** Answers {"pid", "got"} to each line; "exit" exits without an answer, "hang" never answers, "slow" later. */
  private static final String CHILD = """
      import json, os, sys, time
      for line in sys.stdin:
          request = line.strip()
          if request == "exit":
              sys.exit(3)
          if request == "hang":
              time.sleep(600)
          if request == "slow":
              time.sleep(1)
          if request == "mumble":
              print("not json", flush=True)
              continue
          print(json.dumps({"pid": os.getpid(), "got": request}), flush=True)
      """;
  private static final String NO_SUCH_PYTHON = "/nonexistent/python-for-json-lines-child";

  private static JsonLinesChild child(Duration answerTimeout) {
    return new JsonLinesChild(new ProcessBuilder("python3", "-c", CHILD), answerTimeout);
  }

  private static JsonLinesChild child() {
    return child(Duration.ofSeconds(120));
  }

  @Test
  void eachRequestIsAnsweredByTheSameLongLivedChild() throws Exception {
    try (JsonLinesChild child = child()) {
      JsonNode first = child.ask("{\"n\": 1}");
      JsonNode second = child.ask("two");
      assertThat(first.get("got").asText()).isEqualTo("{\"n\": 1}");
      assertThat(second.get("got").asText()).isEqualTo("two");
      assertThat(second.get("pid").asLong()).isEqualTo(first.get("pid").asLong());
    }
  }

  @Test
  void aChildThatExitsWithoutAnAnswerFailsThatRequestAndANewChildAnswersTheNext() throws Exception {
    try (JsonLinesChild child = child()) {
      long pid = child.ask("a").get("pid").asLong();
      assertThatThrownBy(() -> child.ask("exit")).isInstanceOf(JsonLinesChild.ChildUnavailableException.class)
          .hasMessageContaining("python3").hasMessageContaining("exited");
      JsonNode next = child.ask("b");
      assertThat(next.get("got").asText()).isEqualTo("b");
      assertThat(next.get("pid").asLong()).isNotEqualTo(pid);
    }
  }

  @Test
  void aChildThatDoesNotAnswerInTimeIsStoppedAndANewChildAnswersTheNext() throws Exception {
    try (JsonLinesChild child = child(Duration.ofSeconds(2))) {
      long pid = child.ask("a").get("pid").asLong();
      assertThatThrownBy(() -> child.ask("hang")).isInstanceOf(JsonLinesChild.ChildUnavailableException.class)
          .hasMessageContaining("did not answer within 2 s");
      ProcessHandle.of(pid).ifPresent(hung -> hung.onExit().join()); // stopped, not left behind
      JsonNode next = child.ask("b");
      assertThat(next.get("got").asText()).isEqualTo("b");
      assertThat(next.get("pid").asLong()).isNotEqualTo(pid);
    }
  }

  @Test
  void whileWaitingIsCalledUntilTheAnswerComes() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (JsonLinesChild child = child()) {
      assertThat(child.ask("slow", STEP, calls::incrementAndGet).get("got").asText()).isEqualTo("slow");
      assertThat(calls.get()).isPositive();
    }
  }

  @Test
  void anExceptionWhileWaitingStopsTheChildSoItsLateAnswerIsNotTakenForTheNextRequest() throws Exception {
    try (JsonLinesChild child = child()) {
      long pid = child.ask("a").get("pid").asLong();
      assertThatThrownBy(() -> child.ask("slow", STEP, () -> {
        throw new IllegalStateException("activity cancelled");
      })).hasMessage("activity cancelled");
      JsonNode next = child.ask("b");
      assertThat(next.get("got").asText()).isEqualTo("b");
      assertThat(next.get("pid").asLong()).isNotEqualTo(pid);
    }
  }

  @Test
  void anAnswerThatIsNotJsonFailsTheRequestAndANewChildAnswersTheNext() throws Exception {
    try (JsonLinesChild child = child()) {
      long pid = child.ask("a").get("pid").asLong();
      assertThatThrownBy(() -> child.ask("mumble")).isInstanceOf(JsonLinesChild.ChildUnavailableException.class)
          .hasMessageContaining("answered no JSON line");
      assertThat(child.ask("b").get("pid").asLong()).isNotEqualTo(pid);
    }
  }

  @Test
  void aCommandThatCannotStartIsReportedNamingIt() {
    try (JsonLinesChild child = new JsonLinesChild(new ProcessBuilder(NO_SUCH_PYTHON), Duration.ofSeconds(120))) {
      assertThatThrownBy(() -> child.ask("a")).isInstanceOf(JsonLinesChild.ChildUnavailableException.class)
          .hasMessageContaining("cannot start").hasMessageContaining(NO_SUCH_PYTHON);
    }
  }

  @Test
  void aRequestOfMoreThanOneLineIsRefusedBeforeTheChildGetsIt() throws Exception {
    try (JsonLinesChild child = child()) {
      assertThatThrownBy(() -> child.ask("a\nb")).isInstanceOf(IllegalArgumentException.class);
      assertThat(child.ask("c").get("got").asText()).isEqualTo("c");
    }
  }

  @Test
  void closingStopsTheChildAndLaterRequestsFail() throws Exception {
    JsonLinesChild child = child();
    long pid = child.ask("a").get("pid").asLong();
    child.close();
    ProcessHandle.of(pid).ifPresent(stopped -> stopped.onExit().join());
    assertThatThrownBy(() -> child.ask("b")).isInstanceOf(JsonLinesChild.ChildUnavailableException.class)
        .hasMessageContaining("stopped with the worker");
  }
}
