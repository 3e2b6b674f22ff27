package dev.airflowtemporal.dbsync;

import java.util.Map;

/** The Airflow schemas this module was built and tested against, by alembic head. */
public final class SupportedSchemas {
  /** alembic head -> Airflow versions whose schema it is. */
  public static final Map<String, String> HEADS = Map.of("d2f4e1b3c5a7", "3.3.0-3.3.2");

  private SupportedSchemas() {}

  public static String describe() {
    return String.join(", ", HEADS.values());
  }
}
