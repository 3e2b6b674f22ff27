package dev.airflowtemporal.workflows.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The codec server over real HTTP on a loopback port, as the Temporal UI and CLI call it. */
class CodecServerTest {
  private static final String TOKEN = "operator-token-0123456789abcdef";
  private static final String UI = "http://localhost:8233";

  private final EncryptedPayloadFixture fixture = EncryptedPayloadFixture.load();
  private final HttpClient http = HttpClient.newHttpClient();
  private CodecServer server;

  @BeforeEach
  void start() throws IOException {
    server = CodecServer.start(new InetSocketAddress("127.0.0.1", 0),
        new AesGcmPayloadCodec(CodecKeys.parse(fixture.keyList())), TOKEN, Optional.of(UI));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void anAuthorizedCallerGetsThePlainPayloadsOfBothSidesBack() throws Exception {
    String body = payloadsJson(fixture.payload("encrypted_by_java_with_current_key"),
        fixture.payload("encrypted_by_python_with_previous_key"));
    HttpResponse<String> response = post("/decode", body, "Bearer " + TOKEN);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(parse(response.body()).getPayloadsList()).containsExactly(fixture.payload("plain"), fixture.payload("plain"));
  }

  @Test
  void encodeThenDecodeGivesBackTheOriginalAndEncodeHidesIt() throws Exception {
    HttpResponse<String> encoded = post("/encode", payloadsJson(fixture.payload("plain")), "Bearer " + TOKEN);
    assertThat(encoded.statusCode()).isEqualTo(200);
    Payload sealed = parse(encoded.body()).getPayloads(0);
    assertThat(sealed.getMetadataOrThrow("encryption-key-id").toStringUtf8()).isEqualTo(fixture.keyId(0));
    assertThat(encoded.body()).doesNotContain(fixture.payload("plain").getData().toStringUtf8());
    // Mounted at any depth, as the protocol allows (e.g. one URL per namespace).
    HttpResponse<String> decoded = post("/namespaces/default/decode", encoded.body(), "Bearer " + TOKEN);
    assertThat(parse(decoded.body()).getPayloadsList()).containsExactly(fixture.payload("plain"));
  }

  @Test
  void withoutOrWithAWrongTokenNothingIsDecoded() throws Exception {
    String body = payloadsJson(fixture.payload("encrypted_by_java_with_current_key"));
    for (String authorization : new String[] {null, "Bearer wrong-token-0123456789abcdef", TOKEN, "Bearer " + TOKEN + "x"}) {
      HttpResponse<String> response = post("/decode", body, authorization);
      assertThat(response.statusCode()).as(String.valueOf(authorization)).isEqualTo(401);
      assertThat(response.body()).doesNotContain(fixture.payload("plain").getData().toStringUtf8())
          .doesNotContain("payloads");
    }
  }

  @Test
  void theTemporalUiOriginGetsCorsHeadersOnPreflightAndPostAndOtherOriginsNone() throws Exception {
    HttpResponse<String> preflight = send(HttpRequest.newBuilder(uri("/decode"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", UI)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization,content-type,x-namespace"));
    assertThat(preflight.statusCode()).isEqualTo(200);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue(UI);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow())
        .contains("Authorization").contains("Content-Type").contains("X-Namespace");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Credentials")).hasValue("true");

    HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/decode")).header("Origin", UI)
        .header("Authorization", "Bearer " + TOKEN)
        .POST(HttpRequest.BodyPublishers.ofString(payloadsJson(fixture.payload("plain")))));
    assertThat(post.headers().firstValue("Access-Control-Allow-Origin")).hasValue(UI);

    HttpResponse<String> stranger = send(HttpRequest.newBuilder(uri("/decode"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example"));
    assertThat(stranger.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void otherPathsMethodsAndBodiesAreRefusedWithTheReason() throws Exception {
    assertThat(post("/secrets", "{}", "Bearer " + TOKEN).statusCode()).isEqualTo(404);
    assertThat(send(HttpRequest.newBuilder(uri("/decode")).GET()).statusCode()).isEqualTo(405);
    HttpResponse<String> garbage = post("/decode", "{not json", "Bearer " + TOKEN);
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.body()).contains("not {\"payloads\": [...]}");
    AesGcmPayloadCodec otherKey = new AesGcmPayloadCodec(CodecKeys.parse(Base64.getEncoder().encodeToString(new byte[32])));
    String foreign = payloadsJson(otherKey.encode(List.of(fixture.payload("plain"))).get(0));
    HttpResponse<String> unknownKey = post("/decode", foreign, "Bearer " + TOKEN);
    assertThat(unknownKey.statusCode()).isEqualTo(400);
    assertThat(unknownKey.body()).contains("which is not configured");
  }

  private HttpResponse<String> post(String path, String body, String authorization) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .header("X-Namespace", "default").POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return send(request);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
  }

  private static String payloadsJson(Payload... payloads) throws Exception {
    return JsonFormat.printer().print(Payloads.newBuilder().addAllPayloads(List.of(payloads)));
  }

  private static Payloads parse(String json) throws Exception {
    Payloads.Builder builder = Payloads.newBuilder();
    JsonFormat.parser().merge(json, builder);
    return builder.build();
  }
}
