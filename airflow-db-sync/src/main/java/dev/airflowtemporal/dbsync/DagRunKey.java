package dev.airflowtemporal.dbsync;

/** A DagRun's natural key, unique in {@code dag_run}. */
public record DagRunKey(String dagId, String runId) {}
