package dev.airflowtemporal.workflows.task;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunnerEnvironmentTest {

  @Test
  void theWorkersCredentialsAreDroppedAndEverythingElseStays() {
    Map<String, String> env = new HashMap<>(Map.ofEntries(
        Map.entry("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://airflow:pw@db/airflow"),
        Map.entry("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD", "cat /run/secrets/db"),
        Map.entry("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", "postgresql+asyncpg://airflow:pw@db/airflow"),
        Map.entry("AIRFLOW__CORE__SQL_ALCHEMY_CONN", "postgresql://airflow:pw@db/airflow"),
        Map.entry("AIRFLOW__CORE__FERNET_KEY", "fernet"),
        Map.entry("AIRFLOW__API_AUTH__JWT_SECRET", "jwt"),
        Map.entry("AIRFLOW__API_AUTH__JWT_SECRET_SECRET", "vault/jwt"),
        Map.entry("AIRFLOW__API_AUTH__JWT_PRIVATE_KEY_PATH", "/keys/jwt.pem"),
        Map.entry("AIRFLOW__API__SECRET_KEY", "api"),
        Map.entry("AIRFLOW__TEMPORAL__API_KEY", "temporal-key"),
        Map.entry("AIRFLOW__TEMPORAL__TLS_CLIENT_KEY_PATH", "/keys/client.key"),
        Map.entry("TEMPORAL_API_KEY", "temporal-key"),
        Map.entry("TEMPORAL_TLS_CLIENT_KEY_DATA", "-----BEGIN PRIVATE KEY-----"),
        Map.entry("PGPASSWORD", "pw"),
        Map.entry("AIRFLOW__TEMPORAL__CODEC_KEY", "base64-key"),
        Map.entry("AIRFLOW__TEMPORAL__CODEC_KEY_FILE", "/keys/codec.keys"),
        Map.entry("AIRFLOW_TEMPORAL_CODEC_SERVER_TOKEN", "bearer"),
        // what tasks need, or may be given on purpose
        Map.entry("AIRFLOW_HOME", "/opt/airflow"),
        Map.entry("AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "http://api:8080/execution/"),
        Map.entry("AIRFLOW__CORE__DAGS_FOLDER", "/opt/airflow/dags"),
        Map.entry("AIRFLOW__LOGGING__BASE_LOG_FOLDER", "/opt/airflow/logs"),
        Map.entry("AIRFLOW__TEMPORAL__ADDRESS", "temporal:7233"),
        Map.entry("AIRFLOW_CONN_WAREHOUSE", "postgresql://etl:pw@warehouse/etl"),
        Map.entry("PATH", "/usr/bin"),
        Map.entry("AT_STACK_ID", "abc")));

    RunnerEnvironment.scrub(env);

    assertThat(env).containsOnlyKeys("AIRFLOW_HOME", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__LOGGING__BASE_LOG_FOLDER", "AIRFLOW__TEMPORAL__ADDRESS",
        "AIRFLOW_CONN_WAREHOUSE", "PATH", "AT_STACK_ID");
  }
}
