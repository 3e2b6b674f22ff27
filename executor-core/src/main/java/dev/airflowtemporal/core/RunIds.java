package dev.airflowtemporal.core;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;

/**
 * Run ids of Temporal-owned DagRuns, in Airflow's own form ({@code DagRun.generate_run_id}):
 * {@code external__} plus the run's time in Python's {@code datetime.isoformat()} (microseconds only
 * when non-zero, offset as {@code +00:00}). python-bridge derives the same string; the shared wire
 * fixtures hold both sides to it.
 */
public final class RunIds {
  public static final String EXTERNAL_PREFIX = "external__";

  private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssxxx");
  private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSxxx");

  private RunIds() {}

  /** The run id of the external run due at {@code runAfter} (its logical date), in UTC. */
  public static String external(OffsetDateTime runAfter) {
    OffsetDateTime utc = runAfter.withOffsetSameInstant(ZoneOffset.UTC);
    boolean wholeSecond = utc.get(ChronoField.MICRO_OF_SECOND) == 0;
    return EXTERNAL_PREFIX + (wholeSecond ? SECONDS : MICROS).format(utc);
  }
}
