package dev.airflowtemporal.workflows.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's {@code --metrics-port}: {@code /metrics} (Prometheus text), {@code /livez} (the process
 * answers) and {@code /readyz} (200 or 503 with {@link Readiness.Verdict#text()}), on the JDK's HTTP server.
 */
final class HealthServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HealthServer.class);
  private static final String TEXT = "text/plain; charset=utf-8";

  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  /** @throws StartupException when the address cannot be bound */
  static HealthServer start(String host, int port, PrometheusMeterRegistry registry, Readiness readiness) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException | RuntimeException e) {
      throw new StartupException("--metrics-host/--metrics-port: cannot listen on " + host + ":" + port + " ("
          + e.getMessage() + "): pick a free port, or 0 for no metrics endpoint");
    }
    server.createContext("/metrics", exchange -> answer(exchange, 200,
        "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
    server.createContext("/livez", exchange -> answer(exchange, 200, TEXT, "alive\n"));
    server.createContext("/readyz", exchange -> {
      Readiness.Verdict verdict = readiness.evaluate();
      answer(exchange, verdict.ready() ? 200 : 503, TEXT, verdict.text());
    });
    // Readiness checks wait on the network: a scrape must not queue behind one.
    server.setExecutor(Executors.newFixedThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "health-server");
      thread.setDaemon(true);
      return thread;
    }));
    server.start();
    log.info("Metrics and health on http://{}:{}/ (metrics, livez, readyz)", host, server.getAddress().getPort());
    return new HealthServer(server);
  }

  private static void answer(HttpExchange exchange, int status, String contentType, String body) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals(exchange.getHttpContext().getPath())) {
        status = 404;
        body = "not found\n";
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      boolean head = "HEAD".equals(exchange.getRequestMethod());
      exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
