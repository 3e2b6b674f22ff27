package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One task of a {@link DagPlan}, with Airflow's defaults already applied to every field the
 * serializer omitted and the DAG's {@code default_args} already folded in (the SDK applies them when
 * the operator is built, so they reach the serialized task as explicit values).
 *
 * @param taskId Airflow's task_id, including any TaskGroup prefix
 * @param operatorClass the operator's module and class, e.g.
 *     {@code airflow.providers.standard.operators.bash.BashOperator}
 * @param operatorName what the UI names the operator ({@code operator_name}: e.g. {@code @task} for a
 *     decorated task, else the class name); null in a plan packed before it was recorded: the class name
 * @param displayName the task's display name ({@code task_display_name}, else the task id); null in a plan
 *     packed before it was recorded: the task id
 * @param upstreamIds direct upstream task ids, sorted
 * @param downstreamIds direct downstream task ids, sorted
 * @param retryExponentialBackoff Airflow 3.3's backoff multiplier: 0 means a constant delay; a
 *     legacy boolean {@code true} reads as 2.0, as Airflow's deserializer does
 * @param maxRetryDelay the cap on a backed-off delay, if any
 * @param executionTimeout the time limit of one attempt, if any
 * @param weightRule how priority_weight is aggregated: downstream, upstream, absolute, or a custom
 *     strategy's import path
 * @param taskGroupId the innermost TaskGroup holding the task; empty for the DAG's root group
 * @param expandInput for a dynamically mapped task ({@code .expand}), what it maps over: it runs as
 *     many task instances as that has elements
 * @param mappedTaskGroups the mapped TaskGroups around the task, innermost first (Airflow's
 *     {@code iter_mapped_task_groups}); empty for most tasks, and in plans packed before they were recorded
 * @param succeedsWithoutRunning a plain EmptyOperator (no callbacks, inlets or outlets): Airflow marks it
 *     success without running it ({@code TaskInstance.needs_scheduling} is false)
 * @param startTrigger for a task that starts in Airflow's triggerer ({@code start_from_trigger}), its trigger;
 *     empty for every other task, and in plans packed before it was recorded
 */
public record TaskPlan(
    String taskId,
    String operatorClass,
    String operatorName,
    String displayName,
    List<String> upstreamIds,
    List<String> downstreamIds,
    TriggerRule triggerRule,
    int retries,
    Duration retryDelay,
    double retryExponentialBackoff,
    Optional<Duration> maxRetryDelay,
    Optional<Duration> executionTimeout,
    String pool,
    int poolSlots,
    String queue,
    int priorityWeight,
    String weightRule,
    Optional<String> taskGroupId,
    Optional<ExpandInput> expandInput,
    List<MappedTaskGroup> mappedTaskGroups,
    boolean setup,
    boolean teardown,
    boolean succeedsWithoutRunning,
    Optional<StartTrigger> startTrigger) {

  public TaskPlan {
    Objects.requireNonNull(taskId, "taskId");
    Objects.requireNonNull(operatorClass, "operatorClass");
    operatorName = Objects.requireNonNullElse(operatorName, simpleName(operatorClass));
    displayName = Objects.requireNonNullElse(displayName, taskId);
    upstreamIds = List.copyOf(upstreamIds);
    downstreamIds = List.copyOf(downstreamIds);
    Objects.requireNonNull(triggerRule, "triggerRule");
    Objects.requireNonNull(retryDelay, "retryDelay");
    Objects.requireNonNull(maxRetryDelay, "maxRetryDelay");
    Objects.requireNonNull(executionTimeout, "executionTimeout");
    Objects.requireNonNull(pool, "pool");
    Objects.requireNonNull(queue, "queue");
    Objects.requireNonNull(weightRule, "weightRule");
    Objects.requireNonNull(taskGroupId, "taskGroupId");
    Objects.requireNonNull(expandInput, "expandInput");
    mappedTaskGroups = List.copyOf(Objects.requireNonNullElse(mappedTaskGroups, List.of()));
    startTrigger = Objects.requireNonNullElse(startTrigger, Optional.empty());
  }

  /** The operator's class name without its module: Airflow's {@code task_type}. */
  public String taskType() {
    return simpleName(operatorClass);
  }

  private static String simpleName(String className) {
    return className.substring(className.lastIndexOf('.') + 1);
  }

  /** Whether the task is dynamically mapped. */
  public boolean mapped() {
    return expandInput.isPresent();
  }

  /** Whether the task sits in a mapped TaskGroup, at any depth. */
  public boolean inMappedTaskGroup() {
    return !mappedTaskGroups.isEmpty();
  }

  /**
   * Whether the task runs as expanded instances (map index 0 and up) rather than as one: a mapped task,
   * or any task in a mapped TaskGroup (Airflow's {@code get_needs_expansion}).
   */
  public boolean needsExpansion() {
    return mapped() || inMappedTaskGroup();
  }

  /**
   * What the task's number of instances is the product of (Airflow's {@code get_mapped_ti_count}): its
   * own expand input if it is mapped, then that of each mapped TaskGroup around it.
   */
  public List<ExpandInput> expansionInputs() {
    List<ExpandInput> inputs = new ArrayList<>();
    expandInput.ifPresent(inputs::add);
    mappedTaskGroups.forEach(group -> inputs.add(group.expandInput()));
    return inputs;
  }
}
