package dev.airflowtemporal.dbsync;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL that {@code scripts/test} migrates with the real {@code airflow db migrate} (and
 * serializes examples/dags into), for tests: its URL comes from {@code AIRFLOW_TEMPORAL_TEST_DB_URL}.
 * Without it the DB tests are skipped, unless {@code AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS} is set (as
 * scripts/test and CI set it), which makes a missing DB fail the build instead.
 */
public final class MigratedAirflowDb {
  private final DatabaseUrl url;

  private MigratedAirflowDb(DatabaseUrl url) {
    this.url = url;
  }

  /** The configured DB; skips the calling test class when there is none and none is required. */
  public static MigratedAirflowDb orSkip() {
    String airflowUrl = System.getenv("AIRFLOW_TEMPORAL_TEST_DB_URL");
    if (airflowUrl == null && System.getenv("AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS") != null) {
      throw new IllegalStateException("AIRFLOW_TEMPORAL_TEST_DB_URL is not set: run the tests with scripts/test");
    }
    Assumptions.assumeTrue(airflowUrl != null, "no migrated Airflow DB (run scripts/test)");
    return new MigratedAirflowDb(DatabaseUrl.parse(airflowUrl));
  }

  public DatabaseUrl url() {
    return url;
  }

  /** A plain JDBC connection, for setting up and checking rows around the code under test. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url.jdbcUrl(), url.user(), url.password());
  }

  /** Runs one statement with string parameters ({@code ?::uuid} etc. cast them). */
  public int update(String sql, String... parameters) throws SQLException {
    try (Connection c = connect(); PreparedStatement statement = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        statement.setString(i + 1, parameters[i]);
      }
      return statement.executeUpdate();
    }
  }

  /** The single integer a {@code SELECT count(*) ...} with string parameters returns. */
  public int count(String sql, String... parameters) {
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        q.setString(i + 1, parameters[i]);
      }
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
