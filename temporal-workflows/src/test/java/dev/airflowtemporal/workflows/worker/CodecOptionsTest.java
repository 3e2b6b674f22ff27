package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** How the worker JAR's commands find the codec keys and the codec server's token, and refuse bad ones. */
class CodecOptionsTest extends WorkerCliRun {
  private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);
  private static final String SHORT_KEY = Base64.getEncoder().encodeToString("sixteen byte key".getBytes());

  @TempDir
  Path dir;


  @Test
  void aKeyFileWithAKeyOfTheWrongLengthStopsTheWorkerWithOneLineNamingTheSettingButNotTheKey() throws Exception {
    Path file = Files.writeString(dir.resolve("keys"), SHORT_KEY + "\n");
    assertThat(run("worker", "--codec-key-file", file.toString())).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("error: --codec-key-file / AIRFLOW__TEMPORAL__CODEC_KEY_FILE '" + file
        + "': key 1 has 16 bytes, not 32: give a base64-encoded 256-bit key, e.g. from `openssl rand -base64 32`");
    assertThat(err.toString()).doesNotContain(SHORT_KEY);
  }

  @Test
  void anUnreadableKeyFileStopsTheWorkerNamingTheSetting() {
    assertThat(run("check", "--codec-key-file", dir.resolve("missing").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--codec-key-file / AIRFLOW__TEMPORAL__CODEC_KEY_FILE")
        .contains("cannot be read (NoSuchFileException): point it at a readable file of base64 keys");
  }

  @Test
  void keysComeFromTheFileOrTheEnvironmentButNotBoth() throws Exception {
    CodecKeyOptions options = new CodecKeyOptions();
    options.environment = Map.of();
    assertThat(options.keys()).isEmpty();
    options.environment = Map.of("AIRFLOW__TEMPORAL__CODEC_KEY", KEY);
    assertThat(options.keys()).hasValueSatisfying(keys -> assertThat(keys.ids()).hasSize(1));
    options.keyFile = Files.writeString(dir.resolve("keys"), KEY);
    assertThatThrownBy(options::keys).isInstanceOf(StartupException.class)
        .hasMessageContaining("both AIRFLOW__TEMPORAL__CODEC_KEY and the codec key file");
    options.environment = Map.of("AIRFLOW__TEMPORAL__CODEC_KEY", SHORT_KEY);
    options.keyFile = null;
    assertThatThrownBy(options::keys).hasMessageStartingWith("AIRFLOW__TEMPORAL__CODEC_KEY: key 1 has 16 bytes")
        .message().doesNotContain(SHORT_KEY);
  }

  @Test
  void theCodecServerNeedsKeysAndALongEnoughTokenFromTheEnvironmentOrAFile() throws Exception {
    CodecServerCommand command = codecServer("--port", "0");
    command.codec.environment = Map.of();
    command.environment = Map.of();
    assertThatThrownBy(command::call).isInstanceOf(StartupException.class)
        .hasMessageContaining("codec-server needs the payload codec's keys");

    command.codec.environment = Map.of("AIRFLOW__TEMPORAL__CODEC_KEY", KEY);
    assertThatThrownBy(command::call).hasMessageContaining("codec-server needs a bearer token")
        .hasMessageContaining("AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN");

    command.environment = Map.of("AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN", "short");
    assertThatThrownBy(command::call).hasMessage("AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN: the token must be at least 16 "
        + "printable ASCII characters without spaces, e.g. from `openssl rand -hex 32`");

    command.tokenFile = dir.resolve("no-token");
    assertThatThrownBy(command::call).hasMessageContaining("--auth-token-file / AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN_FILE")
        .hasMessageContaining("cannot be read");
  }

  @Test
  void theCodecServerHasNoOptionThatTakesASecret() {
    assertThat(run("codec-server", "--help")).isZero();
    assertThat(out.toString()).contains("--codec-key-file").contains("--auth-token-file").contains("--ui-origin")
        .doesNotContain("--codec-key ").doesNotContain("--token ");
  }

  private static CodecServerCommand codecServer(String... args) {
    CommandLine cli = WorkerMain.commandLine();
    String[] all = new String[args.length + 1];
    all[0] = "codec-server";
    System.arraycopy(args, 0, all, 1, args.length);
    cli.parseArgs(all);
    return (CodecServerCommand) cli.getSubcommands().get("codec-server").getCommand();
  }
}
