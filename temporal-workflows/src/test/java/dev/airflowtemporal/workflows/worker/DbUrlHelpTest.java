package dev.airflowtemporal.workflows.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** --db-url defaults to AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, password included: --help must never print that default. */
class DbUrlHelpTest {

  @Test
  void noCommandsHelpShowsTheDatabaseUrlDefault() {
    CommandLine main = WorkerMain.commandLine();
    for (String command : List.of("worker", "check")) {
      CommandLine sub = main.getSubcommands().get(command);
      OptionSpec dbUrl = sub.getCommandSpec().findOption("--db-url");
      assertThat(sub.getCommandSpec().usageMessage().showDefaultValues()).as(command).isFalse();
      assertThat(dbUrl.showDefaultValue()).as(command).isNotEqualTo(CommandLine.Help.Visibility.ALWAYS);
      assertThat(String.join(" ", dbUrl.description())).as(command).doesNotContain("${DEFAULT-VALUE}");
      String usage = sub.getUsageMessage();
      assertThat(usage).contains("--db-url").contains("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN");
      if (dbUrl.defaultValue() != null) { // the variable is set where the test runs
        assertThat(usage).as(command).doesNotContain(dbUrl.defaultValue());
      }
    }
  }
}
