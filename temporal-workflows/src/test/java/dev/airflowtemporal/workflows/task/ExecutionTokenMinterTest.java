package dev.airflowtemporal.workflows.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The worker side of the minter protocol, against stand-in minters (the real one: test_token_minter.py). */
class ExecutionTokenMinterTest {
  private static final Duration STEP = Duration.ofMillis(50);

  private static ExecutionTokenMinter minter(String script) {
    return new ExecutionTokenMinter(List.of("sh", "-c", script));
  }

  @Test
  void theTokenJoinsTheWorkloadAndTheActivityHeartbeatsWhileTheMinterStarts() throws Exception {
    AtomicInteger heartbeats = new AtomicInteger();
    try (ExecutionTokenMinter minter = minter("sleep 1; while read id; do echo \"{\\\"token\\\": \\\"tok-$id\\\"}\"; done")) {
      var file = minter.withToken(Map.of("contract_version", 1), "0191", STEP, heartbeats::incrementAndGet);
      assertThat(file.get("token").asText()).isEqualTo("tok-0191");
      assertThat(file.get("contract_version").asInt()).isEqualTo(1);
      assertThat(heartbeats.get()).isPositive();
      assertThat(minter.withToken(Map.of(), "0192", STEP, () -> { }).get("token").asText()).isEqualTo("tok-0192");
    }
  }

  @Test
  void aRefusalCarriesTheMintersReason() {
    try (ExecutionTokenMinter minter = minter("while read id; do echo '{\"error\": \"set [api_auth] jwt_secret\"}'; done")) {
      assertThatThrownBy(() -> minter.withToken(Map.of(), "0191", STEP, () -> { }))
          .isInstanceOf(ExecutionTokenMinter.TokenUnavailableException.class).hasMessage("set [api_auth] jwt_secret");
    }
  }

  @Test
  void aMinterThatExitedIsStartedAgainForTheNextToken() throws Exception {
    try (ExecutionTokenMinter minter = minter("read id; echo \"{\\\"token\\\": \\\"tok-$id\\\"}\"; read id; exit 3")) {
      assertThat(minter.withToken(Map.of(), "a", STEP, () -> { }).get("token").asText()).isEqualTo("tok-a");
      // It exits at the second request without an answer; the one after gets a new minter.
      assertThatThrownBy(() -> minter.withToken(Map.of(), "b", STEP, () -> { })).hasMessageContaining("exited");
      assertThat(minter.withToken(Map.of(), "c", STEP, () -> { }).get("token").asText()).isEqualTo("tok-c");
    }
  }
}
