package dev.airflowtemporal.dbsync;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Airflow's {@code [database] sql_alchemy_conn} (e.g. {@code postgresql+psycopg2://u:p@host:5432/db?sslmode=require})
 * or a JDBC URL, turned into what the JDBC driver needs: a URL without credentials, and the user and
 * password apart (so that no driver or pool message that quotes the URL can show the password). Every
 * query parameter is kept ({@code sslmode}, {@code sslrootcert}, {@code sslcert}, {@code sslkey},
 * {@code options}, ...); the libpq names that PgJDBC spells differently are translated.
 * {@link #toString()} never shows a password.
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

  /** libpq parameter → PgJDBC property, where the names differ. */
  private static final Map<String, String> PGJDBC_NAMES = Map.of(
      "application_name", "ApplicationName",
      "connect_timeout", "connectTimeout",
      "target_session_attrs", "targetServerType");
  /** libpq's target_session_attrs values → PgJDBC's targetServerType ones. */
  private static final Map<String, String> TARGET_SERVER_TYPES = Map.of(
      "any", "any", "read-write", "primary", "primary", "primary", "read-only", "secondary",
      "standby", "secondary", "prefer-standby", "preferSecondary");
  /** Query parameters that are secrets: shown as *** by {@link #toString()} and in errors. */
  private static final Set<String> SECRET_PARAMETERS = Set.of("password", "sslpassword");
  private static final Pattern USER_INFO_PASSWORD = Pattern.compile("://([^:/@]*):[^@/]*@");
  private static final Pattern SECRET_PARAMETER = Pattern.compile("(?i)([?&;](?:ssl)?password=)[^&;]*");

  public static DatabaseUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "no database URL: pass --db-url or set AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to Airflow's metadata DB");
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return parseJdbc(url);
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("database URL is not a URL (" + e.getReason() + "): " + redact(url));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!scheme.equals("postgresql") && !scheme.startsWith("postgresql+") && !scheme.equals("postgres")) {
      throw new IllegalArgumentException("database URL scheme '" + scheme
          + "' is not supported: the worker works with Airflow on PostgreSQL (postgresql://...)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("database URL has no host (a Unix socket is not supported; use "
          + "host:port): " + redact(url));
    }
    String user = null;
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : null;
    }
    List<String> parameters = new ArrayList<>();
    if (uri.getRawQuery() != null) {
      for (String parameter : uri.getRawQuery().split("&")) {
        if (parameter.isEmpty()) {
          continue;
        }
        String[] pair = parameter.split("=", 2);
        String name = decode(pair[0]);
        String value = pair.length > 1 ? decode(pair[1]) : "";
        switch (name) {
          case "user" -> user = value;
          case "password" -> password = value;
          default -> parameters.add(jdbcParameter(name, value));
        }
      }
    }
    String host = uri.getHost();
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String jdbcUrl = "jdbc:postgresql://" + host + ":" + port + path
        + (parameters.isEmpty() ? "" : "?" + String.join("&", parameters));
    return new DatabaseUrl(jdbcUrl, user, password);
  }

  /** A PgJDBC URL as it is (any form the driver takes), but for its user and password parameters. */
  private static DatabaseUrl parseJdbc(String url) {
    int query = url.indexOf('?');
    if (query < 0) {
      return new DatabaseUrl(url, null, null);
    }
    String user = null;
    String password = null;
    List<String> parameters = new ArrayList<>();
    for (String parameter : url.substring(query + 1).split("&")) {
      String name = decode(parameter.split("=", 2)[0]);
      String value = parameter.contains("=") ? decode(parameter.split("=", 2)[1]) : "";
      switch (name) {
        case "user" -> user = value;
        case "password" -> password = value;
        default -> parameters.add(parameter);
      }
    }
    return new DatabaseUrl(url.substring(0, query) + (parameters.isEmpty() ? "" : "?" + String.join("&", parameters)),
        user, password);
  }

  private static String jdbcParameter(String name, String value) {
    String jdbcName = PGJDBC_NAMES.getOrDefault(name, name);
    String jdbcValue = name.equals("target_session_attrs") ? TARGET_SERVER_TYPES.getOrDefault(value, value) : value;
    return encode(jdbcName) + "=" + encode(jdbcValue);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** The URL with every password in it (user info, password parameters) replaced, safe for messages and logs. */
  public static String redact(String url) {
    String withoutUserInfo = USER_INFO_PASSWORD.matcher(url).replaceAll("://$1:***@");
    return SECRET_PARAMETER.matcher(withoutUserInfo).replaceAll("$1***");
  }

  @Override
  public String toString() {
    return redact(jdbcUrl) + (user == null ? "" : " as " + user);
  }
}
