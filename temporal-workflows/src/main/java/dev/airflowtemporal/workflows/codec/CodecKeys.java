package dev.airflowtemporal.workflows.codec;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 keys of the payload codec: the first encodes, every one decodes, so a key can be
 * rotated by putting the new one first and keeping the old ones until no history needs them.
 *
 * <p>Written as base64 keys separated by commas, whitespace or newlines (lines starting with
 * {@code #} are comments). A key's id is derived from the key itself
 * ({@link #keyId(byte[])}), so the list needs no names. No message of this class contains a key.
 */
public final class CodecKeys {
  public static final int KEY_BYTES = 32;
  private static final byte[] KEY_ID_DOMAIN = "airflow-temporal codec key id\0".getBytes(StandardCharsets.UTF_8);

  private final String currentId;
  private final Map<String, SecretKey> byId;

  private CodecKeys(String currentId, Map<String, SecretKey> byId) {
    this.currentId = currentId;
    this.byId = byId;
  }

  /**
   * Parses a key list; an {@link IllegalArgumentException} says what is wrong with which key
   * (by position, never by value) in words that make sense after "{@code <setting>}: ".
   */
  public static CodecKeys parse(String text) {
    List<String> encoded = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.strip().startsWith("#")) {
        continue;
      }
      for (String token : line.split("[,\\s]+")) {
        if (!token.isEmpty()) {
          encoded.add(token);
        }
      }
    }
    if (encoded.isEmpty()) {
      throw new IllegalArgumentException("holds no key: give a base64-encoded 256-bit key, e.g. from "
          + "`openssl rand -base64 32`");
    }
    Map<String, SecretKey> byId = new LinkedHashMap<>();
    for (int i = 0; i < encoded.size(); i++) {
      byte[] raw;
      try {
        raw = Base64.getDecoder().decode(encoded.get(i));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("key " + (i + 1) + " is not base64: give a base64-encoded 256-bit key, "
            + "e.g. from `openssl rand -base64 32`");
      }
      if (raw.length != KEY_BYTES) {
        throw new IllegalArgumentException("key " + (i + 1) + " has " + raw.length + " bytes, not " + KEY_BYTES
            + ": give a base64-encoded 256-bit key, e.g. from `openssl rand -base64 32`");
      }
      byId.putIfAbsent(keyId(raw), new SecretKeySpec(raw, "AES"));
    }
    return new CodecKeys(byId.keySet().iterator().next(), byId);
  }

  /** The id written beside each payload: the first 8 bytes of SHA-256 over a fixed prefix and the key, in hex. */
  public static String keyId(byte[] key) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      sha256.update(KEY_ID_DOMAIN);
      return HexFormat.of().formatHex(sha256.digest(key), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  public String currentId() {
    return currentId;
  }

  SecretKey current() {
    return byId.get(currentId);
  }

  Optional<SecretKey> byId(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  /** The ids of every key, current first (safe to log). */
  public List<String> ids() {
    return List.copyOf(byId.keySet());
  }

  @Override
  public String toString() {
    return "CodecKeys" + ids();
  }
}
