package dev.airflowtemporal.workflows.worker;

import dev.airflowtemporal.workflows.WireDataConverter;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.envconfig.ClientConfigProfile;
import io.temporal.serviceclient.WorkflowServiceStubs;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How to reach Temporal: shared by every command; each falls back to Temporal's own environment variables. */
final class TemporalOptions {
  @Option(names = "--address", description = "Temporal frontend host:port. Default: TEMPORAL_ADDRESS, a temporal.toml profile, or localhost:7233.")
  String address;

  @Option(names = "--namespace", description = "Temporal namespace. Default: TEMPORAL_NAMESPACE, a temporal.toml profile, or 'default'.")
  String namespace;

  @Option(names = "--profile", description = "temporal.toml profile to load (TLS, API key, address). Default: TEMPORAL_PROFILE or 'default'. "
      + "TEMPORAL_API_KEY and TEMPORAL_TLS_* variables are honoured too.")
  String profile;

  @Option(names = "--task-queue", defaultValue = "${env:AIRFLOW__TEMPORAL__TASK_QUEUE:-airflow}",
      description = "Base task queue; must equal [temporal] task_queue in airflow.cfg. Default: ${DEFAULT-VALUE}.")
  String taskQueue;

  @Option(names = "--identity", description = "Worker identity shown in the Temporal UI. Default: pid@hostname.")
  String identity;

  @Mixin
  CodecKeyOptions codec;

  /**
   * A client speaking the wire contract's JSON (as every client and worker of ours must), encrypted
   * when codec keys are configured; a bad codec setting is a {@link StartupException}.
   */
  WorkflowClient client(WorkflowServiceStubs service, ClientConfigProfile profile) {
    WorkflowClientOptions.Builder options = WorkflowClientOptions.newBuilder(profile.toWorkflowClientOptions())
        .setDataConverter(WireDataConverter.create(codec.keys()));
    if (identity != null) {
      options.setIdentity(identity);
    }
    return WorkflowClient.newInstance(service, options.build());
  }
}
