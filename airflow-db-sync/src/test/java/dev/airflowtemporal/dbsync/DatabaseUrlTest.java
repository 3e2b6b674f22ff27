package dev.airflowtemporal.dbsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatabaseUrlTest {
  @Test
  void airflowsSqlAlchemyUrlBecomesJdbcWithDecodedCredentials() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql+psycopg2://air%40flow:p%3Ass@db.internal:6432/airflow");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/airflow");
    assertThat(url.user()).isEqualTo("air@flow");
    assertThat(url.password()).isEqualTo("p:ss");
  }

  @Test
  void everyQueryParameterIsKeptWithLibpqNamesInPgJdbcSpelling() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://u:p@db:5432/airflow?sslmode=verify-full"
        + "&sslrootcert=%2Fetc%2Fssl%2Fca.pem&sslcert=/etc/ssl/client.crt&sslkey=/etc/ssl/client.pk8"
        + "&options=-c%20search_path%3Dairflow&application_name=airflow-temporal&connect_timeout=10"
        + "&target_session_attrs=read-write&keepalives=1");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/airflow?sslmode=verify-full"
        + "&sslrootcert=%2Fetc%2Fssl%2Fca.pem&sslcert=%2Fetc%2Fssl%2Fclient.crt&sslkey=%2Fetc%2Fssl%2Fclient.pk8"
        + "&options=-c+search_path%3Dairflow&ApplicationName=airflow-temporal&connectTimeout=10"
        + "&targetServerType=primary&keepalives=1");
  }

  @Test
  void credentialsInTheQueryMoveOutOfTheUrl() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://db/airflow?user=airflow&password=hunter2&sslmode=require");
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/airflow?sslmode=require");
    assertThat(url.user()).isEqualTo("airflow");
    assertThat(url.password()).isEqualTo("hunter2");
  }

  @Test
  void portDefaultsTo5432AndJdbcUrlsPassThroughButForTheirCredentials() {
    assertThat(DatabaseUrl.parse("postgresql://u:p@h/db").jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/db");
    assertThat(DatabaseUrl.parse("jdbc:postgresql://h1:5432,h2:5433/db?sslmode=require&targetServerType=primary"))
        .isEqualTo(new DatabaseUrl("jdbc:postgresql://h1:5432,h2:5433/db?sslmode=require&targetServerType=primary",
            null, null));
    assertThat(DatabaseUrl.parse("jdbc:postgresql://h/db?user=u&password=hunter2&ssl=true"))
        .isEqualTo(new DatabaseUrl("jdbc:postgresql://h/db?ssl=true", "u", "hunter2"));
  }

  @Test
  void thePasswordNeverAppearsInTextOrErrors() {
    assertThat(DatabaseUrl.parse("postgresql://u:hunter2@h/db").toString()).doesNotContain("hunter2");
    assertThat(DatabaseUrl.parse("postgresql://u@h/db?sslpassword=hunter2&sslmode=require").toString())
        .isEqualTo("jdbc:postgresql://h:5432/db?sslpassword=***&sslmode=require as u");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgresql://u:hunter2@/db"))
        .hasMessageNotContaining("hunter2").hasMessageContaining("no host");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgresql://u:hun ter2@h/db?password=hunter3"))
        .hasMessageNotContaining("hun ter2").hasMessageNotContaining("hunter3").hasMessageContaining("not a URL");
  }

  @Test
  void redactHidesUserInfoPasswordsAndPasswordParameters() {
    assertThat(DatabaseUrl.redact("postgresql://u:s3cret@h/db?sslmode=require&password=s3cret&sslpassword=k3y"))
        .isEqualTo("postgresql://u:***@h/db?sslmode=require&password=***&sslpassword=***");
  }

  @Test
  void nonPostgresAndMissingUrlsAreRefusedNamingTheSetting() {
    assertThatThrownBy(() -> DatabaseUrl.parse("sqlite:////tmp/airflow.db"))
        .hasMessageContaining("'sqlite' is not supported");
    assertThatThrownBy(() -> DatabaseUrl.parse(" ")).hasMessageContaining("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN");
  }
}
