package dev.airflowtemporal.workflows.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class AesGcmPayloadCodecTest {
  private final EncryptedPayloadFixture fixture = EncryptedPayloadFixture.load();
  private final AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeys.parse(fixture.keyList()));

  @Test
  void decryptsWhatJavaWroteWithTheCurrentKeyAndPythonWithThePreviousOne() {
    assertThat(codec.decode(List.of(fixture.payload("encrypted_by_java_with_current_key"),
        fixture.payload("encrypted_by_python_with_previous_key"))))
        .containsExactly(fixture.payload("plain"), fixture.payload("plain"));
  }

  @Test
  void encryptsWithTheCurrentKeyInTheSharedFormat() {
    Payload plain = fixture.payload("plain");
    Payload sealed = codec.encode(List.of(plain)).get(0);
    assertThat(sealed.getMetadataMap()).containsOnlyKeys("encoding", "encryption-key-id");
    assertThat(sealed.getMetadataOrThrow("encoding").toStringUtf8()).isEqualTo("binary/encrypted");
    assertThat(sealed.getMetadataOrThrow("encryption-key-id").toStringUtf8()).isEqualTo(fixture.keyId(0));
    assertThat(sealed.getData().size()).isEqualTo(12 + plain.getSerializedSize() + 16);
    assertThat(sealed.getData().toString(StandardCharsets.ISO_8859_1)).doesNotContain(fixture.secret());
    assertThat(codec.decode(List.of(sealed))).containsExactly(plain);
  }

  @Test
  void theSamePayloadEncryptsDifferentlyEachTime() {
    Payload plain = fixture.payload("plain");
    assertThat(codec.encode(List.of(plain)).get(0).getData()).isNotEqualTo(codec.encode(List.of(plain)).get(0).getData());
  }

  @Test
  void aPayloadThatIsNotEncryptedPassesThroughDecodeUnchanged() {
    Payload plain = fixture.payload("plain");
    assertThat(codec.decode(List.of(plain))).containsExactly(plain);
  }

  @Test
  void aPayloadFromAKeyNoLongerConfiguredNamesThatKeysIdAndTheFix() {
    AesGcmPayloadCodec currentOnly = new AesGcmPayloadCodec(CodecKeys.parse(fixture.key(0)));
    assertThatThrownBy(() -> currentOnly.decode(List.of(fixture.payload("encrypted_by_python_with_previous_key"))))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("codec key '" + fixture.keyId(1) + "', which is not configured")
        .hasMessageContaining("add that key after the current one");
  }

  @Test
  void aTamperedPayloadFailsAuthentication() {
    Payload sealed = fixture.payload("encrypted_by_java_with_current_key");
    byte[] data = sealed.getData().toByteArray();
    data[data.length / 2] ^= 1;
    Payload tampered = sealed.toBuilder().setData(ByteString.copyFrom(data)).build();
    assertThatThrownBy(() -> codec.decode(List.of(tampered)))
        .isInstanceOf(PayloadCodecException.class).hasMessageContaining("failed authentication");
  }
}
