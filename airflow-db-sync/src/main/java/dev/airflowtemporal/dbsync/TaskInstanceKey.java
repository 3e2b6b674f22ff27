package dev.airflowtemporal.dbsync;

/** A TaskInstance within one DagRun; {@code mapIndex} is -1 for an unmapped task. */
public record TaskInstanceKey(String taskId, int mapIndex) {}
