package dev.airflowtemporal.dbsync;

/**
 * Airflow 3.3's {@code DagRunTriggeredByType}, stored in {@code dag_run.triggered_by} by member name
 * (SQLAlchemy's non-native Enum). A name outside this list makes Airflow fail to load the row, so
 * there is deliberately no "temporal" member: a schedule firing is TIMETABLE, a trigger command CLI.
 */
public enum TriggeredBy {
  CLI, OPERATOR, REST_API, UI, TEST, TIMETABLE, ASSET, BACKFILL
}
