package dev.airflowtemporal.dbsync;

import java.time.Instant;

/**
 * Dates a {@link TaskInstanceSettlement#transition} stamps; a null one leaves its column as it is. With an end
 * date, {@code duration} becomes end minus the (new or stored) start date, as Airflow computes it.
 */
public record TransitionDates(Instant scheduledAt, Instant queuedAt, Instant startDate, Instant endDate) {
  public static final TransitionDates NONE = new TransitionDates(null, null, null, null);

  public static TransitionDates scheduled(Instant at) {
    return new TransitionDates(at, null, null, null);
  }

  public static TransitionDates queued(Instant at) {
    return new TransitionDates(null, at, null, null);
  }

  public static TransitionDates started(Instant at) {
    return new TransitionDates(null, null, at, null);
  }

  public static TransitionDates ended(Instant at) {
    return new TransitionDates(null, null, null, at);
  }
}
