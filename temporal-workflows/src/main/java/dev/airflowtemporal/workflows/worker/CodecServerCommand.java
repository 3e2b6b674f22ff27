package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.codec.AesGcmPayloadCodec;
import dev.airflowtemporal.workflows.codec.CodecKeys;
import dev.airflowtemporal.workflows.codec.CodecServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code codec-server}: decodes (and encodes) payloads for the Temporal UI and CLI of an authorized operator. */
@Command(name = "codec-server", mixinStandardHelpOptions = true,
    description = "Serve Temporal's codec server protocol (POST /encode, /decode) with the payload codec's keys, so the "
        + "Temporal UI (Settings > Codec Server) or `temporal workflow show --codec-endpoint` can show encrypted payloads. "
        + "Every request needs 'Authorization: Bearer <token>', the token from " + CodecServerCommand.TOKEN_FILE_ENV
        + " or " + CodecServerCommand.TOKEN_ENV + ".")
final class CodecServerCommand implements Callable<Integer> {
  static final String TOKEN_ENV = "AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN";
  static final String TOKEN_FILE_ENV = "AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN_FILE";
  /** Shorter tokens are too easy to guess for something that decrypts every payload. */
  static final int MIN_TOKEN_CHARS = 16;

  @Mixin
  CodecKeyOptions codec;

  @Spec
  CommandSpec spec;

  @Option(names = "--host", defaultValue = "127.0.0.1",
      description = "Address to listen on; loopback unless the UI's browsers are elsewhere. Default: ${DEFAULT-VALUE}.")
  String host;

  @Option(names = "--port", defaultValue = "8234", description = "Port to listen on (0: any free port). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(names = "--ui-origin", defaultValue = "${env:AIRFLOW__TEMPORAL__UI_URL:-http://localhost:8233}",
      description = "Origin (scheme://host:port) of the Temporal UI whose browsers may call this server (CORS). "
          + "Default: AIRFLOW__TEMPORAL__UI_URL, else ${DEFAULT-VALUE}.")
  String uiOrigin;

  @Option(names = "--auth-token-file", defaultValue = "${env:" + TOKEN_FILE_ENV + "}",
      description = "File holding the bearer token every request must send. Default: " + TOKEN_FILE_ENV
          + "; else the token in " + TOKEN_ENV + ".")
  Path tokenFile;

  /** The token's environment; a field so tests need not change the process environment. */
  Map<String, String> environment = System.getenv();

  @Override
  public Integer call() throws IOException, InterruptedException {
    CodecKeys keys = codec.keys().orElseThrow(() -> new StartupException("codec-server needs the payload codec's keys: "
        + "set --codec-key-file / " + CodecKeyOptions.KEY_FILE_ENV + " or " + CodecKeyOptions.KEY_ENV));
    String token = token();
    String origin = origin();
    CodecServer server;
    try {
      server = CodecServer.start(new InetSocketAddress(host, port), new AesGcmPayloadCodec(keys), token, Optional.of(origin));
    } catch (IOException e) {
      throw new StartupException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
          + "): pick a free --port or another --host");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "codec-server-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.printf("Codec server on http://%s:%d (keys %s, encrypting with %s; CORS origin %s)%n",
        server.address().getHostString(), server.address().getPort(), keys.ids(), keys.currentId(), origin);
    out.flush();
    stopped.await();
    return 0;
  }

  private String token() {
    String inline = environment.get(TOKEN_ENV);
    String token;
    String setting;
    if (tokenFile != null) {
      setting = "--auth-token-file / " + TOKEN_FILE_ENV + " '" + tokenFile + "'";
      try {
        token = Files.readString(tokenFile).strip();
      } catch (IOException | RuntimeException e) {
        throw new StartupException(setting + " cannot be read (" + e.getClass().getSimpleName()
            + "): point it at a readable file holding the token");
      }
    } else if (inline != null && !inline.isBlank()) {
      setting = TOKEN_ENV;
      token = inline.strip();
    } else {
      throw new StartupException("codec-server needs a bearer token: put one (e.g. from `openssl rand -hex 32`) in a file "
          + "named by --auth-token-file / " + TOKEN_FILE_ENV + ", or in " + TOKEN_ENV);
    }
    if (token.length() < MIN_TOKEN_CHARS || token.chars().anyMatch(c -> c <= ' ' || c > '~')) {
      throw new StartupException(setting + ": the token must be at least " + MIN_TOKEN_CHARS
          + " printable ASCII characters without spaces, e.g. from `openssl rand -hex 32`");
    }
    return token;
  }

  private String origin() {
    URI uri;
    try {
      uri = URI.create(uiOrigin.strip());
    } catch (IllegalArgumentException e) {
      uri = null;
    }
    if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
      throw new StartupException("--ui-origin '" + uiOrigin + "' is not a URL: give the Temporal UI's scheme://host:port, "
          + "e.g. http://localhost:8233");
    }
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() == -1 ? "" : ":" + uri.getPort());
  }
}
