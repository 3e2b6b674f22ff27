package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Parses the fixtures Airflow 3.3.2 itself serialized (serialized-dags/generate.py). */
class SerializedDagParserTest {
  private static byte[] fixture(String name) {
    try (InputStream in = SerializedDagParserTest.class.getResourceAsStream("/serialized-dags/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing fixture " + name + "; run serialized-dags/generate.py");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static DagPlan parse(String dagId) {
    return SerializedDagParser.parse(fixture(dagId + ".json"));
  }

  private static DagPlan parseJson(String json) {
    return SerializedDagParser.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @ValueSource(strings = {"chain_defaults", "trigger_rules", "retries_and_resources", "grouped_mapped_branch", "site_defaults",
      "start_from_trigger"})
  void everyFixtureParsesIntoAPlanWhoseEdgesAgree(String dagId) {
    DagPlan plan = parse(dagId);
    assertThat(plan.dagId()).isEqualTo(dagId);
    assertThat(plan.tasks()).isNotEmpty();
    for (TaskPlan task : plan.tasks()) {
      task.downstreamIds().forEach(child -> assertThat(plan.task(child).upstreamIds()).contains(task.taskId()));
      task.upstreamIds().forEach(parent ->
          assertThat(plan.tasks().indexOf(plan.task(parent))).isLessThan(plan.tasks().indexOf(task)));
    }
  }

  @Test
  void aTaskWithStartFromTriggerCarriesItsStartTriggerArgsAsTheSerializedDagHoldsThem() {
    DagPlan plan = parse("start_from_trigger");
    assertThat(plan.task("in_triggerer").startTrigger()).contains(new StartTrigger(
        "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
        "{\"__type\":\"dict\",\"__var\":{\"end_from_trigger\":false,\"target_time\":{\"__type\":\"datetime\","
            + "\"__var\":1.7672256E9}}}",
        "execute_complete", null, Optional.empty()));
    assertThat(plan.task("in_triggerer").executionTimeout()).contains(Duration.ofMinutes(10));
    assertThat(plan.task("file_in_triggerer").startTrigger()).contains(new StartTrigger(
        "airflow.providers.standard.triggers.file.FileTrigger",
        "{\"__type\":\"dict\",\"__var\":{\"filepath\":\"/tmp/ready\",\"poke_interval\":60.0,\"recursive\":false}}",
        "execute_complete", null, Optional.of(Duration.ofSeconds(60))));
  }

  @ParameterizedTest
  @ValueSource(strings = {"from_worker", "mapped"})
  void aTaskWithoutStartFromTriggerOrMappedStartsOnAWorker(String taskId) {
    // Both have start_trigger_args; from_worker leaves start_from_trigger off, and Airflow 3.3 does not start mapped
    // tasks from the triggerer.
    assertThat(parse("start_from_trigger").task(taskId).startTrigger()).isEmpty();
  }

  @Test
  void theCompressedFixtureParsesToTheSamePlanAsThePlainOne() {
    assertThat(SerializedDagParser.parseCompressed(fixture("chain_defaults.json.zlib"))).isEqualTo(parse("chain_defaults"));
  }

  @Test
  void omittedFieldsTakeAirflowsDefaults() {
    DagPlan plan = parse("chain_defaults");
    assertThat(plan.tasks()).extracting(TaskPlan::taskId).containsExactly("extract", "transform", "load");
    assertThat(plan.roots()).extracting(TaskPlan::taskId).containsExactly("extract");
    TaskPlan transform = plan.task("transform");
    assertThat(transform).isEqualTo(new TaskPlan("transform", "airflow.providers.standard.operators.bash.BashOperator",
        "BashOperator", "transform",
        List.of("extract"), List.of("load"), TriggerRule.ALL_SUCCESS, 0, Duration.ofSeconds(300), 0.0,
        Optional.empty(), Optional.empty(), "default_pool", 1, "default", 1, "downstream", Optional.empty(),
        Optional.empty(), List.of(), false, false, false, Optional.empty()));
    assertThat(plan.timetable().isManualOnly()).isTrue();
    assertThat(plan.timetable().cronExpression()).isEmpty();
    assertThat(plan.maxActiveTasks()).isEqualTo(16);
  }

  @Test
  void everyTriggerRuleIsReadFromItsTask() {
    DagPlan plan = parse("trigger_rules");
    for (TriggerRule rule : TriggerRule.values()) {
      TaskPlan task = plan.task("rule_" + rule.airflowValue());
      assertThat(task.triggerRule()).isEqualTo(rule);
      assertThat(task.upstreamIds()).containsExactly("up_a", "up_b");
    }
  }

  @Test
  void retriesBackoffTimeoutsPoolsQueuesAndPrioritiesAreRead() {
    DagPlan plan = parse("retries_and_resources");
    assertThat(plan.maxActiveTasks()).isEqualTo(4);
    assertThat(plan.timetable()).isEqualTo(new Timetable(Timetable.CRON_TRIGGER_TIMETABLE, Optional.of("*/5 * * * *"),
        Optional.of(ZoneId.of("Europe/Amsterdam"))));

    TaskPlan inherits = plan.task("inherits_default_args");
    assertThat(inherits.retries()).as("default_args retries").isEqualTo(2);
    assertThat(inherits.retryDelay()).as("default_args retry_delay").isEqualTo(Duration.ofSeconds(30));
    assertThat(inherits.pool()).as("default_args pool").isEqualTo("etl");

    TaskPlan backoff = plan.task("backoff");
    assertThat(backoff.retries()).isEqualTo(5);
    assertThat(backoff.retryDelay()).isEqualTo(Duration.ofSeconds(10));
    assertThat(backoff.retryExponentialBackoff()).isEqualTo(2.5);
    assertThat(backoff.maxRetryDelay()).contains(Duration.ofMinutes(10));
    assertThat(backoff.executionTimeout()).contains(Duration.ofMinutes(3));
    assertThat(backoff.pool()).isEqualTo("etl");

    assertThat(plan.task("legacy_bool_backoff").retryExponentialBackoff()).as("Airflow 2 style True").isEqualTo(2.0);

    TaskPlan heavy = plan.task("heavy");
    assertThat(heavy.pool()).isEqualTo("big_pool");
    assertThat(heavy.poolSlots()).isEqualTo(3);
    assertThat(heavy.queue()).isEqualTo("gpu");
    assertThat(heavy.priorityWeight()).isEqualTo(10);
    assertThat(heavy.weightRule()).isEqualTo("absolute");
    assertThat(heavy.retries()).as("explicit 0 over default_args 2").isZero();
    assertThat(heavy.retryDelay()).isEqualTo(Duration.ofSeconds(30));
    assertThat(heavy.upstreamIds()).containsExactly("backoff", "legacy_bool_backoff");
  }

  @Test
  void taskGroupsMappedTasksAndBranchesAreRead() {
    DagPlan plan = parse("grouped_mapped_branch");
    assertThat(plan.task("work.prepare").taskGroupId()).contains("work");
    assertThat(plan.task("work.finish").taskGroupId()).contains("work");
    assertThat(plan.task("join").taskGroupId()).isEmpty();

    TaskPlan doubled = plan.task("double");
    assertThat(doubled.mapped()).isTrue();
    assertThat(doubled.expandInput()).contains(new ExpandInput(List.of(), List.of("numbers")));
    assertThat(plan.task("work.prepare").succeedsWithoutRunning()).as("a plain EmptyOperator").isTrue();
    assertThat(plan.task("numbers").succeedsWithoutRunning()).isFalse();
    assertThat(doubled.retries()).as("from partial_kwargs").isEqualTo(1);
    assertThat(doubled.retryDelay()).isEqualTo(Duration.ofSeconds(300));
    assertThat(doubled.upstreamIds()).as("the branch and the XCom its expansion reads").containsExactly("choose", "numbers");
    assertThat(plan.task("numbers").mapped()).isFalse();

    TaskPlan choose = plan.task("choose");
    assertThat(choose.operatorClass()).isEqualTo("airflow.providers.standard.decorators.branch_python._BranchPythonDecoratedOperator");
    assertThat(choose.downstreamIds()).containsExactly("double", "work.prepare");
    assertThat(plan.task("join").triggerRule()).isEqualTo(TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS);
    assertThat(plan.task("join").upstreamIds()).containsExactly("double", "work.finish");
  }

  @Test
  void mappedTaskGroupsAndMappingOverAMappedTasksOutputAreRead() {
    DagPlan plan = parse("nested_mapping");
    ExpandInput overNumbers = new ExpandInput(List.of(), List.of("numbers"));
    MappedTaskGroup pipeline = new MappedTaskGroup("pipeline", overNumbers);
    assertThat(plan.task("pipeline.square").mappedTaskGroups()).containsExactly(pipeline);
    assertThat(plan.task("pipeline.square").taskGroupId()).contains("pipeline");
    assertThat(plan.task("pipeline.inner.deep").mappedTaskGroups()).as("innermost first, ids with their parents' prefix")
        .containsExactly(new MappedTaskGroup("pipeline.inner", new ExpandInput(List.of(2), List.of())), pipeline);
    assertThat(plan.task("pipeline.inner.deep").taskGroupId()).contains("pipeline.inner");
    assertThat(plan.task("pipeline.square").mapped()).as("not a mapped operator").isFalse();
    assertThat(plan.task("pipeline.square").needsExpansion()).isTrue();
    assertThat(plan.task("pipeline.inner.deep").expansionInputs())
        .containsExactly(new ExpandInput(List.of(2), List.of()), overNumbers);
    assertThat(plan.task("collect").needsExpansion()).isFalse();

    TaskPlan addTen = plan.task("add_ten");
    assertThat(addTen.expandInput()).contains(new ExpandInput(List.of(), List.of("double"), List.of("double"), List.of()));
    assertThat(addTen.expandInput().orElseThrow().mapsOverMappedTask("double")).isTrue();
    assertThat(plan.task("double").expandInput().orElseThrow().mapsOverMappedTask("numbers")).isFalse();
  }

  private static final String NUMBERS = "{\"task_id\": \"numbers\", \"key\": \"return_value\"}";
  private static final String LETTERS = "{\"task_id\": \"letters\", \"key\": \"return_value\"}";

  static Stream<Arguments> xcomArgsAreReadAsTheTasksTheyCombineAtAnyDepth() {
    CombinedXComs zipFilled = new CombinedXComs(CombinedXComs.ZIP, true, List.of("numbers", "numbers"));
    return Stream.of(
        Arguments.of("map() counts as what it maps", map(NUMBERS), new ExpandInput(List.of(), List.of("numbers"))),
        Arguments.of("a zip with a fillvalue of None has one", combination("zip", ", \"fillvalue\": null", NUMBERS,
            map(NUMBERS)), combined(zipFilled)),
        Arguments.of("a concat nested in a zip", combination("zip", "", LETTERS, combination("concat", "", NUMBERS,
            LETTERS)), combined(new CombinedXComs(CombinedXComs.ZIP, false, List.of("letters"),
            List.of(new CombinedXComs(CombinedXComs.CONCAT, false, List.of("numbers", "letters")))))),
        Arguments.of("a zip with a fillvalue nested in a concat, in a map()", combination("concat", "",
            map(combination("zip", ", \"fillvalue\": \"-\"", NUMBERS, NUMBERS)), LETTERS),
            combined(new CombinedXComs(CombinedXComs.CONCAT, false, List.of("letters"), List.of(zipFilled)))),
        Arguments.of("map() of a zip of a map() of a concat", map(combination("zip", "", NUMBERS,
            map(combination("concat", "", LETTERS, NUMBERS)))),
            combined(new CombinedXComs(CombinedXComs.ZIP, false, List.of("numbers"),
                List.of(new CombinedXComs(CombinedXComs.CONCAT, false, List.of("letters", "numbers")))))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource
  void xcomArgsAreReadAsTheTasksTheyCombineAtAnyDepth(String what, String xcomArg, ExpandInput expected) {
    assertThat(parseJson(mappedOver("{\"__type\": \"xcomref\", \"__var\": " + xcomArg + "}")).task("double")
        .expandInput()).contains(expected);
  }

  @Test
  void aCombinationOfXComsOfAnUnknownKindOrOfNoneIsRefused() {
    String unknown = mappedOver("{\"__type\": \"xcomref\", \"__var\": "
        + combination("zip", "", NUMBERS, "{\"type\": \"chain\", \"args\": [" + NUMBERS + "]}") + "}");
    assertThatThrownBy(() -> parseJson(unknown)).isInstanceOf(InvalidDagException.class)
        .hasMessageContaining("task 'double', argument 'x': zip(): cannot tell how many instances mapping over a chain()");
    String empty = mappedOver("{\"__type\": \"xcomref\", \"__var\": " + combination("concat", "") + "}");
    assertThatThrownBy(() -> parseJson(empty)).isInstanceOf(InvalidDagException.class)
        .hasMessageContaining("task 'double', argument 'x': concat() combines no XComs");
  }

  private static String map(String xcomArg) {
    return "{\"type\": \"map\", \"arg\": " + xcomArg + ", \"callables\": [\"def f(x): return x\"]}";
  }

  private static String combination(String function, String fillvalue, String... args) {
    return "{\"type\": \"" + function + "\"" + fillvalue + ", \"args\": [" + String.join(", ", args) + "]}";
  }

  private static ExpandInput combined(CombinedXComs combined) {
    return new ExpandInput(List.of(), List.of(), List.of(), List.of(combined));
  }

  private static String mappedOver(String xcomArg) {
    return """
        {"__version": 3, "dag": {"dag_id": "m", "fileloc": "f.py",
          "timetable": {"__type": "airflow.timetables.simple.NullTimetable", "__var": {}},
          "tasks": [{"__type": "operator", "__var": {"task_id": "numbers", "downstream_task_ids": ["double"]}},
                    {"__type": "operator", "__var": {"task_id": "letters", "downstream_task_ids": ["double"]}},
                    {"__type": "operator", "__var": {"task_id": "double", "_is_mapped": true,
                       "_expand_input_attr": "op_kwargs_expand_input",
                       "op_kwargs_expand_input": {"type": "dict-of-lists",
                         "value": {"__type": "dict", "__var": {"x": %s}}}}}]}}
        """.formatted(xcomArg);
  }

  @Test
  void theOperatorNameIsTheDecoratorsForDecoratedTasksAndTheTaskTypeOtherwise() {
    DagPlan plan = parse("grouped_mapped_branch");
    assertThat(plan.task("choose").taskType()).isEqualTo("_BranchPythonDecoratedOperator");
    assertThat(plan.task("choose").operatorName()).isEqualTo("@task.branch");
    assertThat(plan.task("double").operatorName()).as("mapped").isEqualTo("@task");
    assertThat(plan.task("join").operatorName()).isEqualTo("EmptyOperator");
    assertThat(plan.task("work.prepare").displayName()).as("no display name: the task id").isEqualTo("work.prepare");
  }

  @Test
  void siteWideClientDefaultsApplyUnlessTheTaskSetsItsOwnValue() {
    DagPlan plan = parse("site_defaults");
    assertThat(plan.task("uses_site_defaults").retries()).isEqualTo(3);
    assertThat(plan.task("uses_site_defaults").queue()).isEqualTo("site_queue");
    assertThat(plan.task("overrides").retries()).isZero();
    assertThat(plan.task("overrides").queue()).isEqualTo("default");
  }

  @ParameterizedTest
  @CsvSource(nullValues = "none", value = {"240.0, PT4M", "0.5, PT0.5S", "0, none", "null, none", "absent, none"})
  void theDagrunTimeoutIsReadAsAirflowWritesItAndAZeroOneIsNone(String serialized, String expected) {
    String field = serialized.equals("absent") ? "" : "\"dagrun_timeout\": " + serialized + ", ";
    DagPlan plan = parseJson("""
        {"__version": 3, "dag": {"dag_id": "timed", "fileloc": "f.py", %s
          "timetable": {"__type": "airflow.timetables.simple.NullTimetable", "__var": {}},
          "tasks": [{"__type": "operator", "__var": {"task_id": "only"}}]}}
        """.formatted(field));
    assertThat(plan.dagrunTimeout()).isEqualTo(Optional.ofNullable(expected).map(Duration::parse));
  }

  @Test
  void aFixedOffsetTimezoneIsReadFromSecondsEastOfUtc() {
    DagPlan plan = parseJson("""
        {"__version": 3, "dag": {"dag_id": "fixed", "fileloc": "f.py",
          "timetable": {"__type": "airflow.timetables.trigger.CronTriggerTimetable",
                        "__var": {"expression": "0 * * * *", "timezone": 3600}},
          "tasks": [{"__type": "operator", "__var": {"task_id": "only"}}]}}
        """);
    assertThat(plan.timetable().timezone()).contains(ZoneId.of("+01:00"));
  }

  @Test
  void deltasIntervalsAndMultipleCronsAreReadWhenTheyHaveAFixedLength() {
    Timetable multiple = parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.trigger.MultipleCronTriggerTimetable", "__var": {"expressions":
         ["0 1 * * *", "30 2 * * 1"], "timezone": "UTC", "interval": 3600.0, "run_immediately": false}}""")).timetable();
    assertThat(multiple.cronExpression()).as("not a single-cron timetable").isEmpty();
    assertThat(multiple.cronExpressions()).containsExactly("0 1 * * *", "30 2 * * 1");
    assertThat(multiple.timezone()).contains(ZoneId.of("UTC"));
    assertThat(multiple.interval()).contains(Duration.ofHours(1));

    Timetable delta = parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.interval.DeltaDataIntervalTimetable", "__var": {"delta": 86400.0}}""")).timetable();
    assertThat(delta.delta()).contains(Duration.ofDays(1));
    assertThat(delta.interval()).as("no interval field: zero").contains(Duration.ZERO);

    Timetable monthly = parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.trigger.DeltaTriggerTimetable", "__var": {"delta": {"months": 1},
         "interval": {"days": 1}}}""")).timetable();
    assertThat(monthly.delta()).as("a relativedelta has no fixed length").isEmpty();
    assertThat(monthly.interval()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"61 * * * *", "0 24 * * *", "0 0 32 * *", "0 0 * 13 *", "0 0 * * 8", "*/0 * * * *",
      "not a cron", "* * * *", "0 0 * * * * * *", "H * * * *", "0 0 * * 5L", "0 0 * * * 60"})
  void aCronExpressionAirflowWouldRefuseIsRefusedNamingIt(String cron) {
    assertThatThrownBy(() -> parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "%s",
         "timezone": "UTC", "interval": 0.0, "run_immediately": false}}""".formatted(cron))))
        .isInstanceOf(InvalidDagException.class)
        .hasMessageStartingWith("DAG 'scheduled': timetable cron expression '" + cron + "' is invalid: ");
  }

  @Test
  void anInvalidCronAmongSeveralIsRefusedWithWhatIsWrong() {
    assertThatThrownBy(() -> parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.trigger.MultipleCronTriggerTimetable", "__var": {"expressions":
         ["0 1 * * *", "75 2 * * 1"], "timezone": "UTC", "interval": 0.0, "run_immediately": false}}""")))
        .isInstanceOf(InvalidDagException.class)
        .hasMessage("DAG 'scheduled': timetable cron expression '75 2 * * 1' is invalid: Value 75 not in range [0, 59]");
    assertThatThrownBy(() -> parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.interval.CronDataIntervalTimetable", "__var": {"expression": "0 0 * *",
         "timezone": "UTC"}}""")))
        .isInstanceOf(InvalidDagException.class)
        .hasMessageContaining("'0 0 * *' is invalid: it has 4 fields; a cron expression has 5");
  }

  /** Each accepted by croniter 7.0 (Airflow 3.3's), so a DAG Airflow runs is never refused for its cron. */
  @ParameterizedTest
  @ValueSource(strings = {"0 0 * * *", "*/5 1-5/2 * * *", "0 0 L * *", "0 0 l * *", "0 0 15W * *", "0 0 ? * ?",
      "0 0 * * 1#2", "0 0 * * 7", "0 0 * * 0-7", "0 0 * * MON-FRI", "0 0 * * sun", "0 0 1 JAN *", "0 0 * jan-mar *",
      "22-2 * * * *", "0 0 * * * 30", "0 0 * * * * *", "@daily", "@hourly"})
  void everyCronSyntaxAirflowAcceptsIsAccepted(String cron) {
    Timetable timetable = parseJson(dagWithTimetable("""
        {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": {"expression": "%s",
         "timezone": "UTC", "interval": 0.0, "run_immediately": false}}""".formatted(cron))).timetable();
    assertThat(timetable.cronExpression()).contains(cron);
  }

  private static String dagWithTimetable(String timetable) {
    return """
        {"__version": 3, "dag": {"dag_id": "scheduled", "fileloc": "f.py", "timetable": %s,
          "tasks": [{"__type": "operator", "__var": {"task_id": "only"}}]}}""".formatted(timetable);
  }

  @Test
  void aCycleIsRefusedNamingItsTasks() {
    assertThatThrownBy(() -> parseJson(dagWithTasks("""
        {"__type": "operator", "__var": {"task_id": "start", "downstream_task_ids": ["a"]}},
        {"__type": "operator", "__var": {"task_id": "a", "downstream_task_ids": ["b"]}},
        {"__type": "operator", "__var": {"task_id": "b", "downstream_task_ids": ["a"]}}
        """))).isInstanceOf(InvalidDagException.class).hasMessage("DAG 'broken' has a cycle: a -> b -> a");
  }

  @Test
  void anEdgeToAnUnknownTaskIsRefusedNamingBothEnds() {
    assertThatThrownBy(() -> parseJson(dagWithTasks("""
        {"__type": "operator", "__var": {"task_id": "a", "downstream_task_ids": ["ghost"]}}
        """))).isInstanceOf(InvalidDagException.class)
        .hasMessage("DAG 'broken': task 'a' has downstream 'ghost', which is not a task of the DAG");
  }

  @Test
  void aDuplicateTaskIdIsRefused() {
    assertThatThrownBy(() -> parseJson(dagWithTasks("""
        {"__type": "operator", "__var": {"task_id": "a"}}, {"__type": "operator", "__var": {"task_id": "a"}}
        """))).isInstanceOf(InvalidDagException.class).hasMessage("DAG 'broken': task id 'a' appears twice");
  }

  @Test
  void anotherSerializerVersionIsRefusedNamingBothVersions() {
    assertThatThrownBy(() -> parseJson("{\"__version\": 2, \"dag\": {}}")).isInstanceOf(InvalidDagException.class)
        .hasMessage("serialized DAG \"__version\" 2 is not supported; supported version is 3 (Airflow 3.3)");
    assertThatThrownBy(() -> parseJson("{\"dag\": {}}")).isInstanceOf(InvalidDagException.class)
        .hasMessage("serialized DAG has no \"__version\"; supported version is 3");
  }

  @Test
  void malformedInputIsAnInvalidDag() {
    assertThatThrownBy(() -> parseJson("{\"__version\": 3")).isInstanceOf(InvalidDagException.class)
        .hasMessageStartingWith("serialized DAG is not valid JSON");
    assertThatThrownBy(() -> SerializedDagParser.parseCompressed(fixture("chain_defaults.json")))
        .isInstanceOf(InvalidDagException.class).hasMessageStartingWith("compressed serialized DAG is not zlib data");
    byte[] zlib = fixture("chain_defaults.json.zlib");
    assertThatThrownBy(() -> SerializedDagParser.parseCompressed(java.util.Arrays.copyOf(zlib, zlib.length / 2)))
        .isInstanceOf(InvalidDagException.class).hasMessage("compressed serialized DAG is truncated");
    assertThatThrownBy(() -> parseJson(dagWithTasks("""
        {"__type": "operator", "__var": {"task_id": "a", "trigger_rule": "sometimes"}}
        """))).isInstanceOf(InvalidDagException.class).hasMessageContaining("unknown trigger_rule 'sometimes'");
    assertThatThrownBy(() -> parseJson(dagWithTasks("""
        {"__type": "operator", "__var": {"task_id": "a", "retries": "many"}}
        """))).isInstanceOf(InvalidDagException.class).hasMessage("DAG 'broken', task 'a': retries must be an integer, not \"many\"");
  }

  private static String dagWithTasks(String tasks) {
    return """
        {"__version": 3, "dag": {"dag_id": "broken", "fileloc": "f.py",
          "timetable": {"__type": "airflow.timetables.simple.NullTimetable", "__var": {}},
          "tasks": [%s]}}
        """.formatted(tasks);
  }
}
