package dev.airflowtemporal.dbsync;

import java.util.UUID;

/**
 * The latest serialized form of a DAG, as the dag-processor wrote it.
 *
 * @param json {@code {"__version": 3, "dag": {...}}} as UTF-8, already decompressed
 * @param bundleVersion the bundle version this DAG version was parsed from (null for the DAGs folder)
 * @param relativeFileloc the DAG file's path inside its bundle, as the task runner needs it
 */
public record SerializedDag(String dagId, UUID dagVersionId, int versionNumber, byte[] json, String bundleName,
                            String bundleVersion, String relativeFileloc, boolean paused) {}
