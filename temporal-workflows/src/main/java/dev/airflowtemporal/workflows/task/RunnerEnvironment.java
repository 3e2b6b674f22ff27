package dev.airflowtemporal.workflows.task;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The environment task runners (and so task processes) start with: the worker's, without the
 * worker's own credentials. A task talks to Airflow only through the Execution API with its own
 * token; it needs neither the metadata DB, nor Temporal, nor the keys that sign Airflow's tokens
 * or encrypt its DB. Everything else (AIRFLOW_HOME, the other {@code AIRFLOW__*} settings,
 * {@code AIRFLOW_CONN_*} connections meant for tasks, PATH, proxies, ...) stays, as under Airflow's
 * own executors.
 */
public final class RunnerEnvironment {
  /** Whole sections or families of settings that only the worker uses. */
  static final List<String> DROPPED_PREFIXES = List.of(
      "AIRFLOW__DATABASE__", // the metadata DB: sql_alchemy_conn (with its password), its _cmd/_secret, engine args
      "TEMPORAL_"); // Temporal's client settings: TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_KEY_*, ...
  /** Single settings; each also with Airflow's {@code _CMD} and {@code _SECRET} variants. */
  static final Set<String> DROPPED_SETTINGS = Set.of(
      "AIRFLOW__CORE__SQL_ALCHEMY_CONN", // the DB URL's pre-2.3 location, still read
      "AIRFLOW__CORE__FERNET_KEY", // decrypts the DB's connections and variables
      "AIRFLOW__API_AUTH__JWT_SECRET", // signs every Airflow token, REST and Execution API alike
      "AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH",
      "AIRFLOW__API__SECRET_KEY", // signs the UI's sessions and log-server requests
      "AIRFLOW__TEMPORAL__API_KEY",
      "AIRFLOW__TEMPORAL__TLS_CLIENT_KEY_PATH",
      "AIRFLOW__TEMPORAL__CODEC_KEY", // decrypts every payload in Temporal
      "AIRFLOW__TEMPORAL__CODEC_KEY_FILE",
      "AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN", // lets its holder decode payloads through codec-server
      "AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN_FILE",
      "PGPASSWORD", "PGPASSFILE");

  private RunnerEnvironment() {}

  /** Removes the worker's credentials from {@code env} (a ProcessBuilder's environment) in place. */
  public static void scrub(Map<String, String> env) {
    env.keySet().removeIf(RunnerEnvironment::isDropped);
  }

  static boolean isDropped(String name) {
    return DROPPED_PREFIXES.stream().anyMatch(name::startsWith)
        || DROPPED_SETTINGS.stream().anyMatch(setting ->
            name.equals(setting) || name.equals(setting + "_CMD") || name.equals(setting + "_SECRET"));
  }
}
