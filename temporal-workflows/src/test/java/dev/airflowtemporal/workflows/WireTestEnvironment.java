package dev.airflowtemporal.workflows;

import io.temporal.client.WorkflowClientOptions;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;

/** Temporal's in-memory test environment speaking our wire JSON, as every real client and worker does. */
public final class WireTestEnvironment {
  private WireTestEnvironment() {}

  public static TestWorkflowEnvironment newInstance() {
    return TestWorkflowEnvironment.newInstance(TestEnvironmentOptions.newBuilder()
        .setWorkflowClientOptions(WorkflowClientOptions.newBuilder().setDataConverter(WireDataConverter.create()).build())
        .build());
  }
}
