package dev.airflowtemporal.workflows.worker;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar airflow-temporal-worker.jar <command>}. */
@Command(
    name = "airflow-temporal-worker",
    mixinStandardHelpOptions = true,
    versionProvider = WorkerMain.Version.class,
    description = "Runs Airflow tasks for the TemporalExecutor as Temporal activities, and drives Temporal-owned DagRuns.",
    subcommands = {WorkerCommand.class, CheckCommand.class, TriggerCommand.class, CodecServerCommand.class,
        CommandLine.HelpCommand.class})
public final class WorkerMain {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new WorkerMain());
    // Bad configuration is reported as one clear line naming the setting, not a stack trace.
    commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println(cmd.getColorScheme().errorText("error: " + e.getMessage()));
      return e instanceof StartupException ? 2 : 1;
    });
    return commandLine;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = WorkerMain.class.getPackage().getImplementationVersion();
      return new String[] {"airflow-temporal-worker " + (version == null ? "dev" : version)};
    }
  }
}
