package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.codec.CodecKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where the payload codec's keys come from: {@code --codec-key-file} (default
 * AIRFLOW__TEMPORAL__CODEC_KEY_FILE) or AIRFLOW__TEMPORAL__CODEC_KEY, as Airflow's
 * {@code [temporal] codec_key_file} / {@code codec_key}. Never an option holding the key itself:
 * command lines are visible to every user of the host.
 */
final class CodecKeyOptions {
  static final String KEY_ENV = "AIRFLOW__TEMPORAL__CODEC_KEY";
  static final String KEY_FILE_ENV = "AIRFLOW__TEMPORAL__CODEC_KEY_FILE";

  @Option(names = "--codec-key-file", defaultValue = "${env:" + KEY_FILE_ENV + "}",
      description = "File with the payload codec's AES-256 keys (base64, one per line; the first encrypts, all decrypt). "
          + "Default: " + KEY_FILE_ENV + "; else the keys in " + KEY_ENV + "; else payloads are not encrypted.")
  Path keyFile;

  /** Keys in the environment instead of a file; a field so tests need not change the process environment. */
  Map<String, String> environment = System.getenv();

  /** The configured keys, or empty when the codec is off; a {@link StartupException} names a bad setting. */
  Optional<CodecKeys> keys() {
    String inline = environment.get(KEY_ENV);
    boolean hasInline = inline != null && !inline.isBlank();
    if (keyFile != null && hasInline) {
      throw new StartupException("both " + KEY_ENV + " and the codec key file (--codec-key-file / " + KEY_FILE_ENV
          + ") are set: keep one");
    }
    if (keyFile != null) {
      String text;
      try {
        text = Files.readString(keyFile);
      } catch (IOException | RuntimeException e) {
        throw new StartupException("--codec-key-file / " + KEY_FILE_ENV + " '" + keyFile + "' cannot be read ("
            + e.getClass().getSimpleName() + "): point it at a readable file of base64 keys");
      }
      return Optional.of(parse(text, "--codec-key-file / " + KEY_FILE_ENV + " '" + keyFile + "'"));
    }
    return hasInline ? Optional.of(parse(inline, KEY_ENV)) : Optional.empty();
  }

  private static CodecKeys parse(String text, String setting) {
    try {
      return CodecKeys.parse(text);
    } catch (IllegalArgumentException e) {
      throw new StartupException(setting + ": " + e.getMessage());
    }
  }
}
