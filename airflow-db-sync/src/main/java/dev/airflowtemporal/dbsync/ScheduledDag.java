package dev.airflowtemporal.dbsync;

import dev.airflowtemporal.core.dag.Timetable;

/**
 * A DAG that opted in to Temporal Schedules, with the timetable of its latest serialized version.
 *
 * @param timetable null when the serialized DAG could not be read; {@code unreadable} says why
 */
public record ScheduledDag(String dagId, boolean paused, Timetable timetable, String unreadable) {}
