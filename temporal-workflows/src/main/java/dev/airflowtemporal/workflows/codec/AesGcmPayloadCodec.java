package dev.airflowtemporal.workflows.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.EncodingKeys;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.List;
import javax.annotation.Nonnull;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Encrypts every payload with AES-256-GCM, as {@code airflow_temporal.codec} does in Python (see
 * docs/wire-contract.md): the whole original {@code Payload} message, serialized, becomes
 * {@code nonce (12 bytes) || ciphertext || tag (16 bytes)}, with metadata
 * {@code encoding: binary/encrypted} and {@code encryption-key-id: <id of the key>}.
 *
 * <p>Encodes with the current key; decodes with whichever configured key the payload names.
 * A payload without {@code binary/encrypted} passes through, so histories written before the codec
 * was turned on still decode.
 */
public final class AesGcmPayloadCodec implements PayloadCodec {
  public static final String ENCODING = "binary/encrypted";
  public static final String KEY_ID_METADATA = "encryption-key-id";
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  private static final ByteString ENCODING_BYTES = ByteString.copyFromUtf8(ENCODING);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final CodecKeys keys;
  private final ByteString currentIdBytes;

  public AesGcmPayloadCodec(CodecKeys keys) {
    this.keys = keys;
    this.currentIdBytes = ByteString.copyFromUtf8(keys.currentId());
  }

  @Nonnull
  @Override
  public List<Payload> encode(@Nonnull List<Payload> payloads) {
    return payloads.stream().map(this::encrypt).toList();
  }

  @Nonnull
  @Override
  public List<Payload> decode(@Nonnull List<Payload> payloads) {
    return payloads.stream().map(this::decrypt).toList();
  }

  private Payload encrypt(Payload payload) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    byte[] sealed;
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, keys.current(), new GCMParameterSpec(TAG_BITS, nonce));
      sealed = cipher.doFinal(payload.toByteArray());
    } catch (GeneralSecurityException e) {
      throw new PayloadCodecException("AES-GCM encryption failed: " + e.getMessage(), e);
    }
    return Payload.newBuilder()
        .putMetadata(EncodingKeys.METADATA_ENCODING_KEY, ENCODING_BYTES)
        .putMetadata(KEY_ID_METADATA, currentIdBytes)
        .setData(ByteString.copyFrom(ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).flip()))
        .build();
  }

  private Payload decrypt(Payload payload) {
    if (!ENCODING_BYTES.equals(payload.getMetadataOrDefault(EncodingKeys.METADATA_ENCODING_KEY, null))) {
      return payload;
    }
    String keyId = payload.getMetadataOrDefault(KEY_ID_METADATA, ByteString.EMPTY).toStringUtf8();
    SecretKey key = keys.byId(keyId).orElseThrow(() -> new PayloadCodecException("payload was encrypted with codec key '"
        + keyId + "', which is not configured (configured: " + keys.ids() + "): add that key after the current one "
        + "in AIRFLOW__TEMPORAL__CODEC_KEY / the codec key file"));
    byte[] data = payload.getData().toByteArray();
    if (data.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new PayloadCodecException("encrypted payload is too short (" + data.length + " bytes) to hold a nonce and tag");
    }
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, data, 0, NONCE_BYTES));
      plain = cipher.doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new PayloadCodecException("encrypted payload failed authentication with codec key '" + keyId
          + "' (tampered or truncated): " + e.getClass().getSimpleName(), e);
    }
    try {
      return Payload.parseFrom(plain);
    } catch (InvalidProtocolBufferException e) {
      throw new PayloadCodecException("decrypted payload is not a Temporal Payload message", e);
    }
  }
}
