package dev.airflowtemporal.dbsync;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The migrated Airflow DB of {@link MigratedAirflowDb} (the test class is skipped without one), opened as an
 * {@link AirflowDatabase} of two connections before the class's tests and closed after them. Register it with
 * {@code @RegisterExtension static final OpenAirflowDb airflow = new OpenAirflowDb();}; its DB is open by the
 * time the class's {@code @BeforeAll} methods run.
 */
public final class OpenAirflowDb implements BeforeAllCallback, AfterAllCallback {
  private MigratedAirflowDb airflowDb;
  private AirflowDatabase db;

  @Override
  public void beforeAll(ExtensionContext context) {
    airflowDb = MigratedAirflowDb.orSkip();
    db = AirflowDatabase.open(airflowDb.url(), 2);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (db != null) {
      db.close();
    }
  }

  /** The DB as the test drives it directly: plain SQL and Airflow's own Python. */
  public MigratedAirflowDb airflowDb() {
    return airflowDb;
  }

  /** The DB as db-sync's classes use it. */
  public AirflowDatabase db() {
    return db;
  }
}
