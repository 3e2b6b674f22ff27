package dev.airflowtemporal.core.dag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads what Airflow 3.3 stores in {@code serialized_dag.data} (or, zlib-compressed, in
 * {@code serialized_dag.data_compressed}) into a {@link DagPlan}.
 *
 * <p>The serializer omits every task field equal to its default, so each omitted field is resolved
 * as Airflow's deserializer resolves it ({@code OperatorSerialization.populate_operator}): the
 * task's own value, else the envelope's {@code client_defaults.tasks} (site-wide defaults from
 * airflow.cfg that differ from the schema's), else the schema default. A mapped task keeps its
 * arguments in {@code partial_kwargs}, which take precedence over everything else.
 */
public final class SerializedDagParser {
  /** {@code BaseSerialization.SERIALIZER_VERSION} in Airflow 3.3. */
  public static final int SUPPORTED_VERSION = 3;

  // Defaults of airflow/serialization/schema.json ("operator") and SerializedBaseOperator, 3.3.
  private static final String DEFAULT_TRIGGER_RULE = "all_success";
  private static final int DEFAULT_RETRIES = 0;
  private static final double DEFAULT_RETRY_DELAY_SECONDS = 300.0;
  private static final double DEFAULT_RETRY_EXPONENTIAL_BACKOFF = 0;
  private static final String DEFAULT_POOL = "default_pool";
  private static final int DEFAULT_POOL_SLOTS = 1;
  private static final String DEFAULT_QUEUE = "default";
  private static final int DEFAULT_PRIORITY_WEIGHT = 1;
  private static final String DEFAULT_WEIGHT_RULE = "downstream";
  /** Airflow's shipped {@code [core] max_active_tasks_per_dag}, used when the DAG omits it. */
  private static final int DEFAULT_MAX_ACTIVE_TASKS = 16;

  private static final ObjectMapper JSON = new ObjectMapper();

  private SerializedDagParser() {}

  public static DagPlan parse(byte[] json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (IOException e) {
      throw new InvalidDagException("serialized DAG is not valid JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new InvalidDagException("serialized DAG must be a JSON object with \"__version\" and \"dag\"");
    }
    checkVersion(root.get("__version"));
    JsonNode dag = root.path("dag");
    if (!dag.isObject()) {
      throw new InvalidDagException("serialized DAG has no \"dag\" object");
    }
    String dagId = requiredText(dag, "dag_id", "serialized DAG");
    String where = "DAG '" + dagId + "'";
    JsonNode clientDefaults = root.path("client_defaults").path("tasks");

    Map<String, JsonNode> operators = new LinkedHashMap<>();
    for (JsonNode wrapped : dag.path("tasks")) {
      if (!"operator".equals(wrapped.path("__type").asText()) || !wrapped.path("__var").isObject()) {
        throw new InvalidDagException(where + ": every entry of \"tasks\" must be {\"__type\": \"operator\", \"__var\": {...}}");
      }
      JsonNode operator = wrapped.get("__var");
      String taskId = requiredText(operator, "task_id", where + ": a task");
      if (operators.put(taskId, operator) != null) {
        throw new InvalidDagException(where + ": task id '" + taskId + "' appears twice");
      }
    }
    if (operators.isEmpty()) {
      throw new InvalidDagException(where + " has no tasks");
    }
    Set<String> mappedTaskIds = new HashSet<>();
    operators.forEach((taskId, operator) -> {
      if (operator.path("_is_mapped").asBoolean(false)) {
        mappedTaskIds.add(taskId);
      }
    });
    Map<String, String> groupOfTask = new HashMap<>();
    Map<String, List<MappedTaskGroup>> mappedGroupsOfTask = new HashMap<>();
    collectTaskGroups(where, dag.path("task_group"), null, List.of(), mappedTaskIds, groupOfTask, mappedGroupsOfTask);

    Map<String, TreeSet<String>> downstream = new TreeMap<>();
    Map<String, TreeSet<String>> upstream = new TreeMap<>();
    operators.keySet().forEach(id -> {
      downstream.put(id, new TreeSet<>());
      upstream.put(id, new TreeSet<>());
    });
    operators.forEach((taskId, operator) -> {
      for (JsonNode child : operator.path("downstream_task_ids")) {
        String childId = child.asText();
        if (!operators.containsKey(childId)) {
          throw new InvalidDagException(where + ": task '" + taskId + "' has downstream '" + childId
              + "', which is not a task of the DAG");
        }
        downstream.get(taskId).add(childId);
        upstream.get(childId).add(taskId);
      }
    });

    List<TaskPlan> tasks = new ArrayList<>();
    for (String taskId : topologicalOrder(where, downstream, upstream)) {
      tasks.add(taskPlan(where, operators.get(taskId), clientDefaults,
          List.copyOf(upstream.get(taskId)), List.copyOf(downstream.get(taskId)), groupOfTask.get(taskId),
          mappedGroupsOfTask.getOrDefault(taskId, List.of()), mappedTaskIds));
    }
    int maxActiveTasks = dag.has("max_active_tasks")
        ? integer(dag.get("max_active_tasks"), where + ": max_active_tasks")
        : DEFAULT_MAX_ACTIVE_TASKS;
    // Airflow applies a dagrun_timeout only when it is truthy: timedelta(0) is none.
    Optional<Duration> dagrunTimeout = fixedDuration(where + ": dagrun_timeout", dag.get("dagrun_timeout"))
        .filter(timeout -> !timeout.isZero());
    return new DagPlan(dagId, timetable(where, dag.path("timetable")), maxActiveTasks, tasks, dagrunTimeout);
  }

  /** Parses {@code serialized_dag.data_compressed}: zlib (RFC 1950) over the same JSON. */
  public static DagPlan parseCompressed(byte[] zlib) {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(zlib);
      ByteArrayOutputStream json = new ByteArrayOutputStream(zlib.length * 8);
      byte[] buffer = new byte[16 * 1024];
      while (!inflater.finished()) {
        int inflated = inflater.inflate(buffer);
        if (inflated == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new InvalidDagException("compressed serialized DAG is truncated");
        }
        json.write(buffer, 0, inflated);
      }
      return parse(json.toByteArray());
    } catch (DataFormatException e) {
      throw new InvalidDagException("compressed serialized DAG is not zlib data: " + e.getMessage(), e);
    } finally {
      inflater.end();
    }
  }

  private static void checkVersion(JsonNode version) {
    if (version == null) {
      throw new InvalidDagException("serialized DAG has no \"__version\"; supported version is " + SUPPORTED_VERSION);
    }
    if (!version.isInt() || version.intValue() != SUPPORTED_VERSION) {
      throw new InvalidDagException("serialized DAG \"__version\" " + version + " is not supported; supported version is "
          + SUPPORTED_VERSION + " (Airflow 3.3)");
    }
  }

  /**
   * Records, for every task, the innermost TaskGroup around it (the root group has no id) and the
   * mapped TaskGroups around it, innermost first. A group's id is its node id, the key its parent
   * lists it under (its {@code _group_id} lacks the parents' prefixes).
   *
   * @param groupId the group's node id; null for the DAG's root group
   * @param enclosingMapped the mapped groups around this group, innermost first
   */
  private static void collectTaskGroups(String where, JsonNode group, String groupId, List<MappedTaskGroup> enclosingMapped,
                                        Set<String> mappedTaskIds, Map<String, String> groupOfTask,
                                        Map<String, List<MappedTaskGroup>> mappedGroupsOfTask) {
    List<MappedTaskGroup> mappedGroups = enclosingMapped;
    if (groupId != null && group.path("is_mapped").asBoolean(false)) {
      mappedGroups = new ArrayList<>();
      mappedGroups.add(new MappedTaskGroup(groupId,
          expandInput(where + ", mapped TaskGroup '" + groupId + "'", group.path("expand_input"), mappedTaskIds)));
      mappedGroups.addAll(enclosingMapped);
      mappedGroups = List.copyOf(mappedGroups);
    }
    for (Map.Entry<String, JsonNode> child : group.path("children").properties()) {
      String kind = child.getValue().path(0).asText();
      if ("operator".equals(kind)) {
        String taskId = child.getValue().path(1).asText();
        if (groupId != null) {
          groupOfTask.put(taskId, groupId);
        }
        if (!mappedGroups.isEmpty()) {
          mappedGroupsOfTask.put(taskId, mappedGroups);
        }
      } else if ("taskgroup".equals(kind)) {
        collectTaskGroups(where, child.getValue().path(1), child.getKey(), mappedGroups, mappedTaskIds, groupOfTask,
            mappedGroupsOfTask);
      }
    }
  }

  /**
   * Kahn's algorithm, always taking the smallest ready task id so that the order is reproducible.
   * Whatever it cannot order lies on or behind a cycle, which is then named.
   */
  private static List<String> topologicalOrder(
      String where, Map<String, TreeSet<String>> downstream, Map<String, TreeSet<String>> upstream) {
    Map<String, Integer> pending = new HashMap<>();
    TreeSet<String> ready = new TreeSet<>();
    upstream.forEach((id, parents) -> {
      pending.put(id, parents.size());
      if (parents.isEmpty()) {
        ready.add(id);
      }
    });
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String id = ready.pollFirst();
      order.add(id);
      for (String child : downstream.get(id)) {
        if (pending.merge(child, -1, Integer::sum) == 0) {
          ready.add(child);
        }
      }
    }
    if (order.size() < upstream.size()) {
      throw new InvalidDagException(where + " has a cycle: " + String.join(" -> ", findCycle(downstream, pending)));
    }
    return order;
  }

  /**
   * Walks upstream from an unordered task until a task repeats; that loop is a cycle. Every
   * unordered task has an unordered upstream, else Kahn's algorithm would have ordered it.
   */
  private static List<String> findCycle(Map<String, TreeSet<String>> downstream, Map<String, Integer> pending) {
    Map<String, TreeSet<String>> unorderedUpstream = new TreeMap<>();
    downstream.forEach((parent, children) -> children.stream()
        .filter(child -> pending.get(child) > 0 && pending.get(parent) > 0)
        .forEach(child -> unorderedUpstream.computeIfAbsent(child, k -> new TreeSet<>()).add(parent)));
    List<String> path = new ArrayList<>();
    String current = unorderedUpstream.keySet().iterator().next();
    while (!path.contains(current)) {
      path.add(current);
      current = unorderedUpstream.get(current).first();
    }
    List<String> cycle = new ArrayList<>(path.subList(path.indexOf(current), path.size()));
    Collections.reverse(cycle);
    // Start at the smallest id so the same cycle is always reported the same way.
    Collections.rotate(cycle, -cycle.indexOf(Collections.min(cycle)));
    cycle.add(cycle.get(0));
    return cycle;
  }

  private static TaskPlan taskPlan(String dagWhere, JsonNode operator, JsonNode clientDefaults,
      List<String> upstreamIds, List<String> downstreamIds, String taskGroupId, List<MappedTaskGroup> mappedTaskGroups,
      Set<String> mappedTaskIds) {
    String taskId = operator.get("task_id").asText();
    String where = dagWhere + ", task '" + taskId + "'";
    boolean mapped = operator.path("_is_mapped").asBoolean(false);
    // populate_operator: client_defaults sit under the task's own values; a mapped task's
    // partial_kwargs get client_defaults for what they lack, then the top-level fields.
    OperatorFields fields = new OperatorFields(mapped
        ? List.of(operator.path("partial_kwargs"), clientDefaults, operator)
        : List.of(operator, clientDefaults));
    String taskType = operator.path("task_type").asText("BaseOperator");
    return new TaskPlan(
        taskId,
        operator.path("_task_module").asText() + "." + taskType,
        // SerializedBaseOperator.operator_name and task_display_name: the serializer omits them when they
        // equal the task type and the task id.
        operator.path("_operator_name").asText(taskType),
        operator.path("task_display_name").asText(taskId),
        upstreamIds,
        downstreamIds,
        TriggerRule.fromAirflowValue(fields.text("trigger_rule", DEFAULT_TRIGGER_RULE)),
        fields.integer(where, "retries", DEFAULT_RETRIES),
        seconds(where + ": retry_delay", fields.numberOr("retry_delay", DEFAULT_RETRY_DELAY_SECONDS)),
        backoffMultiplier(where, fields.get("retry_exponential_backoff")),
        fields.optionalDuration(where, "max_retry_delay"),
        fields.optionalDuration(where, "execution_timeout"),
        fields.text("pool", DEFAULT_POOL),
        fields.integer(where, "pool_slots", DEFAULT_POOL_SLOTS),
        fields.text("queue", DEFAULT_QUEUE),
        fields.integer(where, "priority_weight", DEFAULT_PRIORITY_WEIGHT),
        fields.text("weight_rule", DEFAULT_WEIGHT_RULE),
        Optional.ofNullable(taskGroupId),
        mapped ? Optional.of(expandInput(where, operator.path(operator.path("_expand_input_attr").asText("expand_input")),
            mappedTaskIds)) : Optional.empty(),
        mappedTaskGroups,
        fields.bool("is_setup"),
        fields.bool("is_teardown"),
        succeedsWithoutRunning(operator, fields),
        mapped ? Optional.empty() : startTrigger(where, operator));
  }

  /**
   * What the scheduler's {@code TaskInstance.start_trigger_args} gives: the operator's
   * {@code start_trigger_args} when its {@code start_from_trigger} is true. A mapped task has none: Airflow 3.3's
   * scheduler does not start mapped tasks from the triggerer ({@code expand_start_from_trigger} is false for
   * them, "currently unsupported"), so they start on a worker.
   */
  private static Optional<StartTrigger> startTrigger(String where, JsonNode operator) {
    JsonNode args = operator.get("start_trigger_args");
    if (!operator.path("start_from_trigger").asBoolean(false) || args == null || !args.isObject()) {
      return Optional.empty();
    }
    String what = where + ": start_trigger_args";
    JsonNode timeout = args.get("timeout");
    // _decode_start_trigger_args: a timeout of 0 (or none) is no timeout.
    Optional<Duration> triggerTimeout = timeout == null || timeout.isNull() ? Optional.empty()
        : Optional.of(seconds(what + ".timeout", timeout)).filter(t -> !t.isZero());
    return Optional.of(new StartTrigger(requiredText(args, "trigger_cls", what), jsonOrNull(args.get("trigger_kwargs")),
        requiredText(args, "next_method", what), jsonOrNull(args.get("next_kwargs")), triggerTimeout));
  }

  private static String jsonOrNull(JsonNode value) {
    return value == null || value.isNull() ? null : value.toString();
  }

  /**
   * Airflow's {@code TaskInstance.needs_scheduling} is false for an EmptyOperator without
   * execute/success callbacks, inlets or outlets: the scheduler marks it success at once.
   */
  private static boolean succeedsWithoutRunning(JsonNode operator, OperatorFields fields) {
    return operator.path("_is_empty").asBoolean(false)
        && !fields.bool("has_on_execute_callback")
        && !fields.bool("has_on_success_callback")
        && isEmptyList(fields.get("outlets"))
        && isEmptyList(fields.get("inlets"));
  }

  private static boolean isEmptyList(JsonNode value) {
    return value == null || value.isNull() || (value.isArray() && value.isEmpty());
  }

  /**
   * The expansion input of a mapped task (under the attribute {@code _expand_input_attr} names:
   * {@code op_kwargs_expand_input} for TaskFlow tasks, else {@code expand_input}) or of a mapped
   * TaskGroup ({@code expand_input}): a {@code dict-of-lists} maps over each value, a
   * {@code list-of-dicts} over one list.
   */
  private static ExpandInput expandInput(String where, JsonNode input, Set<String> mappedTaskIds) {
    String type = input.path("type").asText();
    MapSources sources = new MapSources();
    switch (type) {
      case "dict-of-lists" -> input.path("value").path("__var").properties().forEach(arg ->
          sources.add(where + ", argument '" + arg.getKey() + "'", arg.getValue()));
      case "list-of-dicts" -> sources.add(where, input.path("value"));
      default -> throw new InvalidDagException(where + " is mapped but its expand input has unknown type '" + type + "'");
    }
    ExpandInput parsed = new ExpandInput(sources.literalLengths, sources.upstreamTaskIds, List.of(), sources.combined);
    return new ExpandInput(parsed.literalLengths(), parsed.upstreamTaskIds(),
        parsed.sourceTaskIds().stream().filter(mappedTaskIds::contains).toList(), parsed.combinedXComs());
  }

  /** The arguments of one expand input, by kind. */
  private static final class MapSources {
    final List<Integer> literalLengths = new ArrayList<>();
    final List<String> upstreamTaskIds = new ArrayList<>();
    final List<CombinedXComs> combined = new ArrayList<>();

    void add(String where, JsonNode value) {
      if (value.isArray()) {
        literalLengths.add(value.size());
        return;
      }
      String type = value.path("__type").asText();
      JsonNode var = value.path("__var");
      switch (type) {
        case "xcomref" -> {
          JsonNode unmapped = unmapped(var);
          if (unmapped.path("type").asText("").isEmpty()) {
            upstreamTaskIds.add(xcomTaskId(where, unmapped));
          } else {
            combined.add(combination(where, unmapped));
          }
        }
        case "dict", "list", "tuple", "set" -> literalLengths.add(var.size());
        default -> throw new InvalidDagException(where + ": cannot tell how many instances mapping over "
            + (type.isEmpty() ? value.getNodeType().toString().toLowerCase() : type) + " gives");
      }
    }
  }

  /**
   * What a {@code .map(f)} of an XComArg maps: its length is its argument's ({@code SchedulerMapXComArg}), and a
   * map of a map is one {@code map()} with both callables, but a serialized DAG may nest them all the same.
   */
  private static JsonNode unmapped(JsonNode xcomArg) {
    JsonNode arg = xcomArg;
    while ("map".equals(arg.path("type").asText(""))) {
      arg = arg.path("arg");
    }
    return arg;
  }

  /** The task a plain XComArg ({@code SchedulerPlainXComArg}) reads. */
  private static String xcomTaskId(String where, JsonNode plainXComArg) {
    return requiredText(plainXComArg, "task_id", where + ": xcomref");
  }

  /**
   * A {@code zip()} or {@code concat()} of XComArgs, each of which may be a plain one, a {@code map()} or a
   * combination again, as Airflow's {@code deserialize_xcom_arg} reads them at any depth. A zip serialized with a
   * {@code fillvalue} key has one, even {@code None}: Airflow leaves the key out only when none was given.
   */
  private static CombinedXComs combination(String where, JsonNode xcomArg) {
    String function = xcomArg.path("type").asText("");
    if (!CombinedXComs.ZIP.equals(function) && !CombinedXComs.CONCAT.equals(function)) {
      throw new InvalidDagException(where + ": cannot tell how many instances mapping over a " + function
          + "() of XComs gives");
    }
    String inside = where + ": " + function + "()";
    if (xcomArg.path("args").isEmpty()) {
      throw new InvalidDagException(inside + " combines no XComs");
    }
    List<String> taskIds = new ArrayList<>();
    List<CombinedXComs> nested = new ArrayList<>();
    xcomArg.path("args").forEach(arg -> {
      JsonNode unmapped = unmapped(arg);
      if (unmapped.path("type").asText("").isEmpty()) {
        taskIds.add(xcomTaskId(inside, unmapped));
      } else {
        nested.add(combination(inside, unmapped));
      }
    });
    return new CombinedXComs(function, xcomArg.has("fillvalue"), taskIds, nested);
  }

  /**
   * Airflow 3.3's backoff is a float multiplier (0 = constant delay). A DAG written for Airflow 2
   * may still pass {@code True}, which the serializer keeps as a boolean and the deserializer reads
   * as 2.0 ({@code populate_operator}).
   */
  private static double backoffMultiplier(String where, JsonNode value) {
    if (value == null) {
      return DEFAULT_RETRY_EXPONENTIAL_BACKOFF;
    }
    if (value.isBoolean()) {
      return value.booleanValue() ? 2.0 : 0.0;
    }
    if (!value.isNumber() || value.doubleValue() < 0) {
      throw new InvalidDagException(where + ": retry_exponential_backoff must be a non-negative number, not " + value);
    }
    return value.doubleValue();
  }

  private static Timetable timetable(String where, JsonNode timetable) {
    String type = timetable.path("__type").asText("");
    if (type.isEmpty()) {
      throw new InvalidDagException(where + " has no timetable");
    }
    JsonNode spec = timetable.path("__var");
    JsonNode expression = spec.path("expression");
    List<String> expressions = new ArrayList<>();
    if (expression.isTextual()) {
      expressions.add(expression.asText());
    }
    for (JsonNode each : spec.path("expressions")) { // MultipleCronTriggerTimetable
      expressions.add(each.asText());
    }
    for (String cron : expressions) {
      // Airflow refuses such a DAG when it parses it; one written to the DB by other means is refused here.
      String problem = CronSyntax.problem(cron);
      if (problem != null) {
        throw new InvalidDagException(where + ": timetable cron expression '" + cron + "' is invalid: " + problem);
      }
    }
    return new Timetable(type,
        expression.isTextual() ? Optional.of(expression.asText()) : Optional.empty(),
        expressions.isEmpty() ? Optional.empty() : Optional.of(zone(where, spec.path("timezone"))),
        expressions,
        fixedDuration(where + ": timetable delta", spec.get("delta")),
        spec.has("interval") ? fixedDuration(where + ": timetable interval", spec.get("interval")) : Optional.of(Duration.ZERO));
  }

  /**
   * Airflow writes a {@code timedelta} as its seconds and a {@code relativedelta} as an object of
   * its non-zero fields; only the former has a fixed length.
   */
  private static Optional<Duration> fixedDuration(String what, JsonNode value) {
    if (value == null || value.isNull() || value.isObject()) {
      return Optional.empty();
    }
    return Optional.of(seconds(what, value));
  }

  /** Airflow writes a named timezone as its name and a fixed offset as seconds east of UTC. */
  private static ZoneId zone(String where, JsonNode timezone) {
    try {
      if (timezone.isIntegralNumber()) {
        return ZoneOffset.ofTotalSeconds(timezone.intValue());
      }
      if (timezone.isTextual()) {
        return ZoneId.of(timezone.asText());
      }
    } catch (DateTimeException e) {
      throw new InvalidDagException(where + ": timetable timezone " + timezone + " is not a valid timezone", e);
    }
    throw new InvalidDagException(where + ": cron timetable has no timezone");
  }

  private static Duration seconds(String what, JsonNode value) {
    if (!value.isNumber() || value.doubleValue() < 0) {
      throw new InvalidDagException(what + " must be a non-negative number of seconds, not " + value);
    }
    BigDecimal seconds = value.decimalValue();
    return Duration.ofSeconds(seconds.longValue(), seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
  }

  private static String requiredText(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw new InvalidDagException(where + " has no \"" + field + "\"");
    }
    return value.asText();
  }

  private static int integer(JsonNode value, String what) {
    if (!value.canConvertToExactIntegral() || !value.canConvertToInt()) {
      throw new InvalidDagException(what + " must be an integer, not " + value);
    }
    return value.intValue();
  }

  /** One task's fields, each looked up where Airflow's deserializer would find it. */
  private record OperatorFields(List<JsonNode> sourcesByPrecedence) {
    /**
     * The field's value with any {@code {"__type", "__var"}} envelope removed (partial_kwargs keep
     * it, e.g. for timedeltas), or null when Airflow would fall back to the schema default.
     */
    JsonNode get(String field) {
      for (JsonNode source : sourcesByPrecedence) {
        JsonNode value = source.get(field);
        if (value != null && !value.isNull()) {
          return value.isObject() && value.has("__var") ? value.get("__var") : value;
        }
      }
      return null;
    }

    String text(String field, String fallback) {
      JsonNode value = get(field);
      return value == null ? fallback : value.asText();
    }

    int integer(String where, String field, int fallback) {
      JsonNode value = get(field);
      return value == null ? fallback : SerializedDagParser.integer(value, where + ": " + field);
    }

    JsonNode numberOr(String field, double fallback) {
      JsonNode value = get(field);
      return value == null ? JSON.getNodeFactory().numberNode(fallback) : value;
    }

    Optional<Duration> optionalDuration(String where, String field) {
      JsonNode value = get(field);
      return value == null ? Optional.empty() : Optional.of(seconds(where + ": " + field, value));
    }

    boolean bool(String field) {
      JsonNode value = get(field);
      return value != null && value.asBoolean();
    }
  }
}
