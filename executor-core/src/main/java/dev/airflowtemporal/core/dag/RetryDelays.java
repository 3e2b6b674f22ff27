package dev.airflowtemporal.core.dag;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;

/**
 * When a task in {@code up_for_retry} may run again: Airflow 3.3's
 * {@code TaskInstance.next_retry_datetime}, including its deterministic per-attempt jitter for
 * exponential backoff, so a Temporal-owned run waits exactly as long as Airflow's scheduler would.
 */
public final class RetryDelays {
  /** Airflow's {@code MAX_RETRY_DELAY}: 24 hours, the cap of a backed-off delay. */
  static final long MAX_RETRY_DELAY_SECONDS = 24 * 60 * 60;

  private static final DateTimeFormatter PY_SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ssxxx");
  private static final DateTimeFormatter PY_MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSSxxx");

  private RetryDelays() {}

  /**
   * @param tryNumber the try that just failed
   * @param endDate when it ended
   * @param retryDelayOverrideSeconds a RetryPolicy's delay the runner stored on the TI, if any
   * @param logicalDate the run's logical date (null for a run without one); part of the jitter hash
   */
  public static Instant nextRetryAt(String dagId, TaskPlan task, OffsetDateTime logicalDate, int tryNumber,
                                    Instant endDate, Double retryDelayOverrideSeconds) {
    if (retryDelayOverrideSeconds != null) {
      return endDate.plus(secondsToDuration(retryDelayOverrideSeconds));
    }
    Duration delay = task.retryDelay();
    double multiplier = task.retryExponentialBackoff() != 0 ? task.retryExponentialBackoff() : 1.0;
    if (multiplier != 1.0 && multiplier > 0) {
      double raw = Math.ceil(delay.toNanos() / 1e9 * Math.pow(multiplier, tryNumber - 1));
      long minBackoff = Double.isInfinite(raw) || raw > MAX_RETRY_DELAY_SECONDS ? MAX_RETRY_DELAY_SECONDS : (long) raw;
      minBackoff = Math.max(minBackoff, 1);
      String key = dagId + "#" + task.taskId() + "#" + pythonStr(logicalDate) + "#" + tryNumber;
      long moddedHash = minBackoff + sha1(key).mod(BigInteger.valueOf(minBackoff)).longValueExact();
      delay = Duration.ofSeconds(Math.min(moddedHash, MAX_RETRY_DELAY_SECONDS));
      if (task.maxRetryDelay().isPresent() && task.maxRetryDelay().get().compareTo(delay) < 0) {
        delay = task.maxRetryDelay().get();
      }
    }
    return endDate.plus(delay);
  }

  /** Python's {@code str()} of an aware UTC datetime, or of None. */
  static String pythonStr(OffsetDateTime dateTime) {
    if (dateTime == null) {
      return "None";
    }
    OffsetDateTime utc = dateTime.withOffsetSameInstant(ZoneOffset.UTC);
    return (utc.get(ChronoField.MICRO_OF_SECOND) == 0 ? PY_SECONDS : PY_MICROS).format(utc);
  }

  private static BigInteger sha1(String text) {
    try {
      return new BigInteger(1, MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
  }

  private static Duration secondsToDuration(double seconds) {
    return Duration.ofNanos(Math.round(seconds * 1e9));
  }
}
