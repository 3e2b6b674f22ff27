package dev.airflowtemporal.dbsync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The PostgreSQL that {@code scripts/test} migrates with the real {@code airflow db migrate} (and
 * serializes examples/dags into), for tests: its URL comes from {@code AIRFLOW_TEMPORAL_TEST_DB_URL}.
 * Without it the DB tests are skipped, unless {@code AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS} is set (as
 * scripts/test and CI set it), which makes a missing DB fail the build instead.
 */
public final class MigratedAirflowDb {
  private final String airflowUrl;
  private final DatabaseUrl url;

  private MigratedAirflowDb(String airflowUrl, DatabaseUrl url) {
    this.airflowUrl = airflowUrl;
    this.url = url;
  }

  /** The configured DB; skips the calling test class when there is none and none is required. */
  public static MigratedAirflowDb orSkip() {
    String airflowUrl = System.getenv("AIRFLOW_TEMPORAL_TEST_DB_URL");
    if (airflowUrl == null && System.getenv("AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS") != null) {
      throw new IllegalStateException("AIRFLOW_TEMPORAL_TEST_DB_URL is not set: run the tests with scripts/test");
    }
    Assumptions.assumeTrue(airflowUrl != null, "no migrated Airflow DB (run scripts/test)");
    return new MigratedAirflowDb(airflowUrl, DatabaseUrl.parse(airflowUrl));
  }

  public DatabaseUrl url() {
    return url;
  }

  /**
   * Runs a Python script with the real Airflow of the venv scripts/test prepares ({@code AT_VENV}),
   * against this DB: for what only Airflow's own code should do to the rows (e.g. its
   * {@code clear_task_instances}), so that tests meet rows exactly as Airflow leaves them. Skips the
   * calling test without a venv, unless DB tests are required.
   *
   * @return what the script printed
   */
  public String airflowPython(String script, String... args) throws IOException, InterruptedException {
    String venv = System.getenv("AT_VENV");
    if (venv == null && System.getenv("AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS") != null) {
      throw new IllegalStateException("AT_VENV is not set: run the tests with scripts/test");
    }
    Assumptions.assumeTrue(venv != null, "no Airflow venv (AT_VENV; run scripts/test)");
    Path home = Files.createTempDirectory("airflow-home");
    List<String> command = new ArrayList<>(List.of(Path.of(venv, "bin", "python").toString(), "-c", script));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("AIRFLOW__") || name.equals("AIRFLOW_CONFIG"));
    builder.environment().put("AIRFLOW_HOME", home.toString());
    builder.environment().put("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", airflowUrl);
    builder.environment().put("AIRFLOW__CORE__LOAD_EXAMPLES", "False");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(180, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new AssertionError("Airflow's Python failed:\n" + output);
    }
    return output;
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
