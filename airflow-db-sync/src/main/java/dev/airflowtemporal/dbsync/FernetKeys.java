package dev.airflowtemporal.dbsync;

import com.macasaet.fernet.Key;
import com.macasaet.fernet.Token;
import java.security.SecureRandom;
import java.util.Map;

/**
 * Airflow's {@code [core] fernet_key}, used as {@code airflow.models.crypto.get_fernet} uses it: one key or
 * several, comma-separated (a {@code MultiFernet}: every key must be valid, values are encrypted with the
 * first), or none — then, as Airflow's {@code _NullFernet}, values are stored as they are. A secret: the worker
 * reads it from its own environment, as it reads the DB URL, and {@link #toString()} never shows it.
 */
public final class FernetKeys {
  /** Where the worker finds the key: Airflow's own environment variable for {@code [core] fernet_key}. */
  public static final String ENVIRONMENT_VARIABLE = "AIRFLOW__CORE__FERNET_KEY";

  private final Key encrypting;
  private final int count;
  private final SecureRandom random = new SecureRandom();

  private FernetKeys(Key encrypting, int count) {
    this.encrypting = encrypting;
    this.count = count;
  }

  /**
   * @param keys the setting's value; null or empty for none
   * @throws IllegalArgumentException naming which key is invalid (never the key), as Airflow refuses it
   *     ("Could not create Fernet object")
   */
  public static FernetKeys parse(String keys) {
    if (keys == null || keys.isEmpty()) {
      return new FernetKeys(null, 0);
    }
    String[] parts = keys.split(",", -1);
    Key first = null;
    for (int i = 0; i < parts.length; i++) {
      Key key;
      try {
        key = new Key(parts[i]);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("[core] fernet_key: key " + (i + 1) + " of " + parts.length
            + " is not 32 url-safe base64-encoded bytes");
      }
      if (first == null) {
        first = key;
      }
    }
    return new FernetKeys(first, parts.length);
  }

  /** The key in {@code env} ({@value #ENVIRONMENT_VARIABLE}); none when it is unset. */
  public static FernetKeys fromEnvironment(Map<String, String> env) {
    return parse(env.get(ENVIRONMENT_VARIABLE));
  }

  /** Whether values are encrypted (Airflow's {@code is_encrypted}). */
  public boolean encrypts() {
    return encrypting != null;
  }

  /** A Fernet token of {@code plaintext} under the first key, as {@code MultiFernet.encrypt}; the text itself without a key. */
  public String encrypt(String plaintext) {
    return encrypting == null ? plaintext : Token.generate(random, encrypting, plaintext).serialise();
  }

  @Override
  public String toString() {
    return count == 0 ? "FernetKeys[none: stored unencrypted]" : "FernetKeys[" + count + " key(s)]";
  }
}
