package dev.airflowtemporal.dbsync;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Airflow's {@code [database] sql_alchemy_conn} (e.g. {@code postgresql+psycopg2://u:p@host:5432/db})
 * or a JDBC URL, turned into what the JDBC driver needs. {@link #toString()} never shows the password.
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

  public static DatabaseUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException(
          "no database URL: pass --db-url or set AIRFLOW__DATABASE__SQL_ALCHEMY_CONN to Airflow's metadata DB");
    }
    if (url.startsWith("jdbc:postgresql:")) {
      return new DatabaseUrl(url, null, null);
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("database URL is not a URL: " + redact(url));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!scheme.equals("postgresql") && !scheme.startsWith("postgresql+") && !scheme.equals("postgres")) {
      throw new IllegalArgumentException("database URL scheme '" + scheme
          + "' is not supported: the worker works with Airflow on PostgreSQL (postgresql://...)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("database URL has no host: " + redact(url));
    }
    String user = null;
    String password = null;
    if (uri.getRawUserInfo() != null) {
      String[] parts = uri.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : null;
    }
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getRawPath();
    return new DatabaseUrl(jdbc, user, password);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** The URL with any password replaced, safe for messages and logs. */
  static String redact(String url) {
    return url.replaceAll("://([^:/@]*):[^@]*@", "://$1:***@");
  }

  @Override
  public String toString() {
    return jdbcUrl + (user == null ? "" : " as " + user);
  }
}
