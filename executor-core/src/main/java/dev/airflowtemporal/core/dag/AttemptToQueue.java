package dev.airflowtemporal.core.dag;

/**
 * One TaskInstance the workflow wants to start.
 *
 * @param tryNumber the try it is about to start (its current try_number + 1)
 */
public record AttemptToQueue(String taskId, int mapIndex, int tryNumber) {}
