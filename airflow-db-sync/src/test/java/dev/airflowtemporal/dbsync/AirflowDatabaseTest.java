package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Against PostgreSQL migrated by the real {@code airflow db migrate}: scripts/test provides it in
 * AIRFLOW_TEMPORAL_TEST_DB_URL and sets AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS so a missing DB fails the build.
 */
class AirflowDatabaseTest {
  private static MigratedAirflowDb airflowDb;

  @BeforeAll
  static void requireDatabase() {
    airflowDb = MigratedAirflowDb.orSkip();
  }

  @Test
  void aSchemaMigratedByAirflow33IsAccepted() {
    try (AirflowDatabase db = AirflowDatabase.open(airflowDb.url(), 1)) {
      assertThat(db.alembicHeads()).containsExactly("d2f4e1b3c5a7");
    }
  }

  @Test
  void aSchemaAtAnotherAlembicRevisionIsRefusedNamingTheSupportedVersions() throws Exception {
    // A scratch schema first on the search path stands in for an older Airflow DB; Airflow's own
    // tables are never touched.
    DatabaseUrl url = airflowDb.url();
    String scratch = "schema_check_" + ProcessHandle.current().pid();
    try (Connection c = airflowDb.connect(); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + scratch);
      s.execute("CREATE TABLE " + scratch + ".alembic_version (version_num varchar(32) PRIMARY KEY)");
      s.execute("INSERT INTO " + scratch + ".alembic_version VALUES ('29ce7909c52b')");
      try {
        DatabaseUrl older = new DatabaseUrl(url.jdbcUrl() + (url.jdbcUrl().contains("?") ? "&" : "?")
            + "currentSchema=" + scratch, url.user(), url.password());
        assertThatThrownBy(() -> AirflowDatabase.open(older, 1))
            .isInstanceOf(UnsupportedSchemaException.class)
            .hasMessageContaining("29ce7909c52b").hasMessageContaining("3.3.0-3.3.2");
      } finally {
        s.execute("DROP SCHEMA " + scratch + " CASCADE");
      }
    }
  }

  @Test
  void anUnreachableDatabaseIsReportedWithTheSettingToCheck() {
    assertThatThrownBy(() -> AirflowDatabase.open(DatabaseUrl.parse("postgresql://u:secret@127.0.0.1:1/airflow"), 1))
        .isInstanceOf(DatabaseUnavailableException.class)
        .hasMessageContaining("127.0.0.1:1").hasMessageContaining("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
        .hasMessageNotContaining("secret");
  }
}
