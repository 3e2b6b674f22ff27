package dev.airflowtemporal.workflows.owned;

import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * The DagRun a Temporal-owned workflow created: what every later step needs to address it and to
 * build its task runners' workloads.
 *
 * @param dagVersionId the {@code dag_version} the run and its TaskInstances were created from
 * @param dagRelPath the DAG file, relative to its bundle's root
 * @param logicalDate the run's logical date (null for a run without one)
 */
public record OwnedRun(String dagId, String runId, UUID dagVersionId, String dagRelPath, String bundleName,
                       String bundleVersion, OffsetDateTime logicalDate) {}
