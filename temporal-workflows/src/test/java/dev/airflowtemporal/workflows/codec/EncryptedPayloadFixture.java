package dev.airflowtemporal.workflows.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.airflowtemporal.core.wire.WireFixtures;
import io.temporal.api.common.v1.Payload;
import java.io.IOException;
import java.io.UncheckedIOException;

/** docs/wire-contract/fixtures/encrypted_payloads.json, shared with python-bridge/tests/test_codec.py. */
record EncryptedPayloadFixture(JsonNode json) {
  static EncryptedPayloadFixture load() {
    try {
      return new EncryptedPayloadFixture(new ObjectMapper().readTree(WireFixtures.read("encrypted_payloads.json")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Both keys, current first, as an operator would configure them mid-rotation. */
  String keyList() {
    return json.get("keys").get(0).asText() + "," + json.get("keys").get(1).asText();
  }

  String key(int index) {
    return json.get("keys").get(index).asText();
  }

  String keyId(int index) {
    return json.get("key_ids").get(index).asText();
  }

  String secret() {
    return json.get("secret").asText();
  }

  Payload payload(String field) {
    Payload.Builder builder = Payload.newBuilder();
    try {
      JsonFormat.parser().merge(json.get(field).toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("fixture field " + field + " is not a Payload", e);
    }
    return builder.build();
  }
}
