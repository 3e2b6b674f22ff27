package dev.airflowtemporal.workflows.codec;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporal's codec server protocol over the JDK's HTTP server, so the Temporal UI and CLI
 * ({@code --codec-endpoint}) can show payloads that the {@link AesGcmPayloadCodec} encrypted:
 * {@code POST .../encode} and {@code POST .../decode} (at any path depth) take and return
 * {@code {"payloads": [...]}} in protobuf JSON. Every POST needs {@code Authorization: Bearer <token>}; the one browser origin
 * allowed (the Temporal UI's) gets CORS headers, any other origin none.
 */
public final class CodecServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CodecServer.class);
  /** Temporal caps one payload at 2 MiB by default; a batch of them fits well below this. */
  static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

  private final HttpServer server;
  private final ExecutorService threads;
  private final PayloadCodec codec;
  private final byte[] expectedAuthorization;
  private final Optional<String> allowedOrigin;

  private CodecServer(HttpServer server, PayloadCodec codec, String token, Optional<String> allowedOrigin) {
    this.server = server;
    this.codec = codec;
    this.expectedAuthorization = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    this.allowedOrigin = allowedOrigin;
    this.threads = Executors.newFixedThreadPool(4, r -> {
      Thread thread = new Thread(r, "codec-server");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(threads);
    server.createContext("/", this::handle);
  }

  /**
   * Binds and starts serving.
   *
   * @param token the bearer token a caller must send; never logged
   * @param allowedOrigin the Temporal UI's origin (scheme://host:port) allowed to call from a browser
   */
  public static CodecServer start(InetSocketAddress bind, PayloadCodec codec, String token,
      Optional<String> allowedOrigin) throws IOException {
    CodecServer codecServer = new CodecServer(HttpServer.create(bind, 0), codec, token, allowedOrigin);
    codecServer.server.start();
    return codecServer;
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      allowOrigin(exchange);
      // The protocol lets the endpoints be mounted at any depth (e.g. one URL per namespace): the last segment decides.
      String path = exchange.getRequestURI().getPath();
      BiFunction<PayloadCodec, List<Payload>, List<Payload>> operation = path.endsWith("/encode") ? PayloadCodec::encode
          : path.endsWith("/decode") ? PayloadCodec::decode : null;
      if (operation == null) {
        respond(exchange, 404, "not found: POST .../encode or .../decode");
      } else if ("OPTIONS".equals(exchange.getRequestMethod())) {
        // A CORS preflight carries no credentials; the POST that follows must.
        exchange.sendResponseHeaders(200, -1);
      } else if (!"POST".equals(exchange.getRequestMethod())) {
        exchange.getResponseHeaders().set("Allow", "POST, OPTIONS");
        respond(exchange, 405, "use POST");
      } else if (!authorized(exchange)) {
        respond(exchange, 401, "missing or wrong Authorization header: send 'Authorization: Bearer <token>'");
      } else {
        convert(exchange, operation);
      }
    } finally {
      exchange.close();
    }
  }

  private void convert(HttpExchange exchange, BiFunction<PayloadCodec, List<Payload>, List<Payload>> operation)
      throws IOException {
    byte[] body;
    try (InputStream in = exchange.getRequestBody()) {
      body = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (body.length > MAX_BODY_BYTES) {
      respond(exchange, 413, "request body over " + MAX_BODY_BYTES + " bytes");
      return;
    }
    Payloads.Builder request = Payloads.newBuilder();
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(new String(body, StandardCharsets.UTF_8), request);
    } catch (InvalidProtocolBufferException e) {
      respond(exchange, 400, "body is not {\"payloads\": [...]} in protobuf JSON: " + e.getMessage());
      return;
    }
    List<Payload> converted;
    try {
      converted = operation.apply(codec, request.getPayloadsList());
    } catch (PayloadCodecException e) {
      respond(exchange, 400, e.getMessage());
      return;
    }
    byte[] response = JsonFormat.printer().print(Payloads.newBuilder().addAllPayloads(converted))
        .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, response.length);
    exchange.getResponseBody().write(response);
    log.info("{} {}: {} payload(s) for {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
        converted.size(), exchange.getRemoteAddress());
  }

  private boolean authorized(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    return header != null && MessageDigest.isEqual(expectedAuthorization, header.strip().getBytes(StandardCharsets.UTF_8));
  }

  private void allowOrigin(HttpExchange exchange) {
    String origin = exchange.getRequestHeaders().getFirst("Origin");
    exchange.getResponseHeaders().add("Vary", "Origin");
    if (origin != null && allowedOrigin.isPresent() && allowedOrigin.get().equals(origin)) {
      exchange.getResponseHeaders().set("Access-Control-Allow-Origin", origin);
      exchange.getResponseHeaders().set("Access-Control-Allow-Methods", "POST, OPTIONS");
      exchange.getResponseHeaders().set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Namespace");
      exchange.getResponseHeaders().set("Access-Control-Allow-Credentials", "true");
    }
  }

  private static void respond(HttpExchange exchange, int status, String message) throws IOException {
    byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }
}
