package dev.airflowtemporal.workflows;

import io.temporal.client.WorkflowClientOptions;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;

/** Temporal's in-memory test environment speaking our wire JSON, as every real client and worker does. */
public final class WireTestEnvironment {
  private WireTestEnvironment() {}

  public static TestWorkflowEnvironment newInstance() {
    return TestWorkflowEnvironment.newInstance(options().build());
  }

  /**
   * Without time skipping, for tests that keep a workflow waiting on a signal while they wait on another's
   * result: skipping would jump to the test server's default execution timeout (10 years) of the waiting
   * one, which then is closed and its signals answered NOT_FOUND.
   */
  public static TestWorkflowEnvironment withoutTimeSkipping() {
    return TestWorkflowEnvironment.newInstance(options().setUseTimeskipping(false).build());
  }

  private static TestEnvironmentOptions.Builder options() {
    return TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setDataConverter(WireDataConverter.create()).build());
  }
}
