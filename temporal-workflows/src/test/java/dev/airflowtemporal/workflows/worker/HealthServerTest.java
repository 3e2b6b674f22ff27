package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airflowtemporal.workflows.metrics.WorkerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicReference<String> temporalProblem = new AtomicReference<>();
  private final Readiness readiness = new Readiness(List.of(
      new Readiness.Check("temporal", () -> Optional.ofNullable(temporalProblem.get())),
      new Readiness.Check("database", Optional::empty)));
  private HealthServer server;
  private int port;

  @BeforeEach
  void start() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    server = HealthServer.start("127.0.0.1", port, registry, readiness);
  }

  @AfterEach
  void stop() {
    server.close();
    readiness.close();
  }

  @Test
  void readyzAnswers503NamingTheCheckThatFailsAnd200OnceItPasses() throws Exception {
    temporalProblem.set("cannot use Temporal namespace 'default' at 127.0.0.1:1: UNAVAILABLE");
    HttpResponse<String> notReady = get("/readyz");
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.body()).startsWith("not ready: temporal\n")
        .contains("temporal: cannot use Temporal namespace").contains("database: ok");

    temporalProblem.set(null);
    HttpResponse<String> ready = get("/readyz");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).isEqualTo("ready\ntemporal: ok\ndatabase: ok\n");
  }

  @Test
  void aCheckThatHangsIsNotReadyAfterTheCheckTimeout() {
    Readiness hanging = new Readiness(List.of(new Readiness.Check("runner_server", () -> {
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return Optional.empty();
    })));
    Readiness.Verdict verdict = hanging.evaluate();
    hanging.close();
    assertThat(verdict.notReady()).containsExactly("runner_server");
    assertThat(verdict.text()).contains("runner_server: did not answer within 3 s");
  }

  @Test
  void livezAnswersAndMetricsServeTheWorkersMetersInPrometheusText() throws Exception {
    WorkerMetrics metrics = new WorkerMetrics(registry, "airflow");
    metrics.slots("default", 16);
    metrics.attemptStarted(metrics.airflowQueue("airflow"), "task").finished(WorkerMetrics.Outcome.success);
    metrics.attemptStarted(metrics.airflowQueue("airflow:gpu"), "owned_task");

    assertThat(get("/livez").statusCode()).isEqualTo(200);
    HttpResponse<String> scrape = get("/metrics");
    assertThat(scrape.statusCode()).isEqualTo(200);
    assertThat(scrape.body())
        .contains("airflow_temporal_attempts_started_total{kind=\"task\",queue=\"default\"} 1.0")
        .contains("airflow_temporal_attempts_finished_total{kind=\"task\",outcome=\"success\",queue=\"default\"} 1.0")
        .contains("airflow_temporal_attempts_started_total{kind=\"owned_task\",queue=\"gpu\"} 1.0")
        .contains("airflow_temporal_slots_free{queue=\"default\"} 16.0");
    assertThat(get("/nothing-here").statusCode()).isEqualTo(404);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
