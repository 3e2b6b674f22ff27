package dev.airflowtemporal.dbsync;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.List;
import org.hibernate.SessionFactory;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.hibernate.cfg.AvailableSettings;
import org.hibernate.cfg.Configuration;

/**
 * The worker's connection to Airflow's metadata DB: a small HikariCP pool under a Hibernate
 * SessionFactory that never runs DDL. {@link #open} refuses a schema it was not built for.
 */
public final class AirflowDatabase implements AutoCloseable {
  private final HikariDataSource dataSource;
  private final SessionFactory sessionFactory;

  private AirflowDatabase(HikariDataSource dataSource, SessionFactory sessionFactory) {
    this.dataSource = dataSource;
    this.sessionFactory = sessionFactory;
  }

  /**
   * Connects and checks {@code alembic_version}.
   *
   * @throws DatabaseUnavailableException when the DB cannot be reached or logged into
   * @throws UnsupportedSchemaException when the schema is not one of {@link SupportedSchemas}
   */
  public static AirflowDatabase open(DatabaseUrl url, int maxPoolSize) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(url.jdbcUrl());
    config.setUsername(url.user());
    config.setPassword(url.password());
    config.setMaximumPoolSize(maxPoolSize);
    config.setPoolName("airflow-metadata");
    config.setConnectionTimeout(10_000);
    config.setInitializationFailTimeout(10_000);
    HikariDataSource dataSource;
    try {
      dataSource = new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      throw new DatabaseUnavailableException("cannot connect to Airflow's metadata DB at " + url + ": "
          + root.getMessage() + ". Check --db-url / AIRFLOW__DATABASE__SQL_ALCHEMY_CONN and that PostgreSQL is up.", e);
    }
    SessionFactory sessionFactory = new Configuration()
        .addAnnotatedClass(AlembicVersion.class)
        .addAnnotatedClass(DagRow.class)
        .addAnnotatedClass(DagTagRow.class)
        .addAnnotatedClass(DagVersionRow.class)
        .addAnnotatedClass(SerializedDagRow.class)
        .addAnnotatedClass(DagRunRow.class)
        .addAnnotatedClass(TaskInstanceRow.class)
        .addAnnotatedClass(SlotPoolRow.class)
        .buildSessionFactory(new StandardServiceRegistryBuilder()
            .applySetting(AvailableSettings.DATASOURCE, dataSource)
            .applySetting(AvailableSettings.HBM2DDL_AUTO, "none")
            .applySetting(AvailableSettings.JAKARTA_HBM2DDL_DATABASE_ACTION, "none")
            .build());
    AirflowDatabase database = new AirflowDatabase(dataSource, sessionFactory);
    try {
      database.requireSupportedSchema();
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
    return database;
  }

  /** The alembic head(s) recorded in the DB; more than one only mid-migration. */
  public List<String> alembicHeads() {
    return sessionFactory.fromSession(session ->
        session.createSelectionQuery("select a.versionNum from AlembicVersion a", String.class).getResultList());
  }

  private void requireSupportedSchema() {
    List<String> heads;
    try {
      heads = alembicHeads();
    } catch (RuntimeException e) {
      throw new UnsupportedSchemaException("the database has no readable alembic_version table (" + e.getMessage()
          + "): is this Airflow's metadata DB, and has `airflow db migrate` run?");
    }
    if (heads.size() != 1 || !SupportedSchemas.HEADS.containsKey(heads.get(0))) {
      throw new UnsupportedSchemaException("Airflow's metadata DB is at alembic revision " + heads
          + ", which this worker does not support. Supported Airflow versions: " + SupportedSchemas.describe()
          + " (alembic " + SupportedSchemas.HEADS.keySet() + "). Run a worker built for your Airflow version, "
          + "or finish `airflow db migrate`.");
    }
  }

  public SessionFactory sessionFactory() {
    return sessionFactory;
  }

  @Override
  public void close() {
    sessionFactory.close();
    dataSource.close();
  }
}
