package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A task that starts in Airflow's triggerer instead of on a worker: an operator with
 * {@code start_from_trigger=True} and {@code start_trigger_args} (e.g. {@code DateTimeSensorAsync},
 * {@code TimeSensor(deferrable=True)}, {@code FileSensor(deferrable=True)} with the flag). Airflow's
 * scheduler defers such a task instead of queueing it ({@code DagRun.schedule_tis} →
 * {@code TaskInstance.defer_task}); the trigger's event then resumes it on a worker with
 * {@link #nextMethod}, or ends it ({@code end_from_trigger}).
 *
 * @param triggerClass the trigger's import path ({@code trigger_cls})
 * @param triggerKwargsJson {@code trigger_kwargs} as the serialized DAG holds them (BaseSerialization's
 *     {@code {"__type": "dict", "__var": ...}}), as JSON text: the scheduler hands exactly this value to
 *     the {@code Trigger} row, which encrypts it; {@code null} for none ({@code {}})
 * @param nextMethod the method the resumed task runs
 * @param nextKwargsJson {@code next_kwargs} as the serialized DAG holds them, as JSON text; null for none ({@code {}})
 * @param timeout how long the trigger may run before Airflow fails the deferral, if at all
 */
public record StartTrigger(String triggerClass, String triggerKwargsJson, String nextMethod, String nextKwargsJson,
                           Optional<Duration> timeout) {
  public StartTrigger {
    Objects.requireNonNull(triggerClass, "triggerClass");
    Objects.requireNonNull(nextMethod, "nextMethod");
    timeout = Objects.requireNonNullElse(timeout, Optional.empty());
  }
}
