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
  void portDefaultsTo5432AndJdbcUrlsPassThrough() {
    assertThat(DatabaseUrl.parse("postgresql://u:p@h/db").jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/db");
    assertThat(DatabaseUrl.parse("jdbc:postgresql://h/db?user=u").jdbcUrl()).isEqualTo("jdbc:postgresql://h/db?user=u");
  }

  @Test
  void thePasswordNeverAppearsInTextOrErrors() {
    assertThat(DatabaseUrl.parse("postgresql://u:hunter2@h/db").toString()).doesNotContain("hunter2");
    assertThatThrownBy(() -> DatabaseUrl.parse("postgresql://u:hunter2@/db"))
        .hasMessageNotContaining("hunter2").hasMessageContaining("no host");
  }

  @Test
  void nonPostgresAndMissingUrlsAreRefusedNamingTheSetting() {
    assertThatThrownBy(() -> DatabaseUrl.parse("sqlite:////tmp/airflow.db"))
        .hasMessageContaining("'sqlite' is not supported");
    assertThatThrownBy(() -> DatabaseUrl.parse(" ")).hasMessageContaining("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN");
  }
}
