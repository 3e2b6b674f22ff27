package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerLogServerTest {

  @Test
  void theLogServerGetsTheApiSecretKeyButNoOtherCredentialOfTheWorker() {
    Map<String, String> worker = Map.of(
        "AIRFLOW__API__SECRET_KEY", "api",
        "AIRFLOW__API__SECRET_KEY_CMD", "cat /run/secrets/api",
        "AIRFLOW__API_AUTH__JWT_SECRET", "jwt",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://airflow:pw@db/airflow",
        "AIRFLOW__CORE__FERNET_KEY", "fernet",
        "TEMPORAL_API_KEY", "temporal-key",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER", "/opt/airflow/logs",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT", "8793");
    Map<String, String> env = new HashMap<>(worker);

    WorkerLogServer.environment(env, worker);

    assertThat(env).containsOnlyKeys("AIRFLOW__API__SECRET_KEY", "AIRFLOW__API__SECRET_KEY_CMD",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER", "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT");
  }
}
