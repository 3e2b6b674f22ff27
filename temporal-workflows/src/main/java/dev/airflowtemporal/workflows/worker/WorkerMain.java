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

  /** SLF4J's own reporting threshold (its warnings and errors, e.g. no or several providers, still show). */
  static final String SLF4J_VERBOSITY = "slf4j.internal.verbosity";

  public static void main(String[] args) {
    quietLoggingStartup();
    System.exit(commandLine().execute(args));
  }

  /**
   * SLF4J 2.0.15 reports at INFO, on stderr, which provider it bound to ({@code SLF4J(I): Connected with provider of
   * type ...}): that line came first on every command, before the command's own output. Set before any logger exists
   * (picocli creates the commands, whose classes hold loggers, after this); an explicit {@code -D} wins.
   */
  static void quietLoggingStartup() {
    if (System.getProperty(SLF4J_VERBOSITY) == null) {
      System.setProperty(SLF4J_VERBOSITY, "WARN");
    }
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
