package dev.airflowtemporal.workflows.worker;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** The worker JAR's command line run in-process, with what it prints kept for assertions. */
abstract class WorkerCliRun {
  protected final StringWriter out = new StringWriter();
  protected final StringWriter err = new StringWriter();

  protected int run(String... args) {
    CommandLine cli = WorkerMain.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return cli.execute(args);
  }
}
