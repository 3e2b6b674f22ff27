package dev.airflowtemporal.core.dag;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The owned run's state machine, one row per rule: given where the task instances stand (and which
 * tries are in flight), an event gives this answer and leaves the instances so.
 *
 * <p>The DAG: {@code extract} (2 retries, 10 s apart) feeds {@code transform}, the plain EmptyOperator
 * {@code noop}, and {@code fan}, mapped over extract's output; max_active_tasks 2.
 */
class DagRunStateMachineTest {
  private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  private static final UUID TI_ID = UUID.fromString("0190a1b2-0000-7000-8000-000000000001");

  /** One rule: where the instances stand (label=state/try, * for a try in flight), the event, its answer, after. */
  record Case(String rule, List<String> given, Function<DagRunStateMachine, Object> event, Object answer,
              List<String> after) {
    @Override
    public String toString() {
      return rule;
    }
  }

  static Stream<Case> rules() {
    return Stream.of(
        new Case("a fresh run starts its root", List.of(), DagRunStateMachine::nextStep,
            step(List.of(), Optional.empty(), List.of(), List.of(), List.of(ref("extract"))), List.of()),
        new Case("a success readies its downstreams, marks the EmptyOperator success and expands the mapped task",
            List.of("extract=success/1"), DagRunStateMachine::nextStep,
            step(List.of(mark("noop", TaskState.SUCCESS)), Optional.empty(), List.of("fan"), List.of(),
                List.of(ref("transform"))), List.of("extract=success/1")),
        new Case("a failure without retries left marks downstreams upstream_failed and fails the run",
            List.of("extract=failed/3"), DagRunStateMachine::nextStep,
            step(List.of(mark("transform", TaskState.UPSTREAM_FAILED), mark("noop", TaskState.UPSTREAM_FAILED),
                mark("fan", TaskState.UPSTREAM_FAILED)), Optional.of(TaskState.FAILED), List.of(), List.of(), List.of()),
            List.of("extract=failed/3")),
        new Case("a try in flight is waited for", List.of("extract=running/1*"), DagRunStateMachine::nextStep,
            step(List.of(), Optional.empty(), List.of(), List.of(), List.of()), List.of("extract=running/1*")),
        new Case("an EmptyOperator marked success counts its first try", List.of("extract=success/1"),
            m -> { m.marked(List.of(mark("noop", TaskState.SUCCESS))); return null; }, null,
            List.of("extract=success/1", "noop=success/1")),
        new Case("a trigger-rule mark keeps the try number", List.of("extract=failed/1"),
            m -> { m.marked(List.of(mark("transform", TaskState.UPSTREAM_FAILED))); return null; }, null,
            List.of("extract=failed/1", "transform=upstream_failed/0")),
        new Case("an expansion replaces the unexpanded instance by its map indexes", List.of("extract=success/1"),
            m -> m.expanded("fan", 3), List.of(),
            List.of("extract=success/1", "fan[0]=none/0", "fan[1]=none/0", "fan[2]=none/0")),
        new Case("an expansion into nothing skips the task", List.of("extract=success/1"),
            m -> m.expanded("fan", 0), List.of(), List.of("extract=success/1", "fan=skipped/0")),
        new Case("a task whose upstream recorded no length is to be marked upstream_failed",
            List.of("extract=success/1"), m -> m.expanded("fan", -1),
            List.of(mark("fan", TaskState.UPSTREAM_FAILED)), List.of("extract=success/1", "fan=upstream_failed/0")),
        new Case("retries due go first, then ready tasks, within max_active_tasks",
            List.of("extract=success/1", "fan[0]=up_for_retry/1@-1", "fan[1]=up_for_retry/1@+5"),
            m -> m.attemptsToQueue(List.of(ref("transform"), ref("noop")), NOW),
            List.of(new AttemptToQueue("fan", 0, 2), new AttemptToQueue("transform", -1, 1)),
            List.of("extract=success/1", "fan[0]=up_for_retry/1", "fan[1]=up_for_retry/1")),
        new Case("no room beside the tries in flight queues nothing",
            List.of("extract=success/1", "fan[0]=running/1*", "fan[1]=queued/1*"),
            m -> m.attemptsToQueue(List.of(ref("transform")), NOW), List.of(),
            List.of("extract=success/1", "fan[0]=running/1*", "fan[1]=queued/1*")),
        new Case("a queued try is in flight and decides again", List.of("extract=none/0"),
            m -> m.queued(List.of(QueueResult.queued(new AttemptToQueue("extract", -1, 1), TI_ID, NOW)), NOW),
            new DagRunStateMachine.Queued(List.of(QueueResult.queued(new AttemptToQueue("extract", -1, 1), TI_ID, NOW)),
                true),
            List.of("extract=queued/1*")),
        new Case("a try Airflow settled first takes Airflow's state", List.of("extract=success/1"),
            m -> m.queued(List.of(QueueResult.notQueueable(new AttemptToQueue("transform", -1, 1), TaskState.SKIPPED, 0)),
                NOW), new DagRunStateMachine.Queued(List.of(), true),
            List.of("extract=success/1", "transform=skipped/0")),
        new Case("a full pool backs off 1 s, then 2 s, and the run sleeps until then", List.of(),
            m -> {
              m.queued(List.of(QueueResult.poolFull(new AttemptToQueue("extract", -1, 1))), NOW);
              Duration first = m.untilNextTimer(NOW);
              List<AttemptToQueue> meanwhile = m.attemptsToQueue(List.of(ref("extract")), NOW.plusMillis(999));
              m.queued(List.of(QueueResult.poolFull(new AttemptToQueue("extract", -1, 1))), NOW.plusSeconds(1));
              return List.of(first, meanwhile, m.untilNextTimer(NOW.plusSeconds(1)));
            }, List.of(Duration.ofSeconds(1), List.of(), Duration.ofSeconds(2)), List.of()),
        new Case("waits name each parked or clocked instance's retry delay, reschedule date, trigger and human answer",
            List.of("extract=success/1", "fan[0]=up_for_retry/1@+10", "fan[1]=up_for_reschedule/2@+5",
                "fan[2]=deferred/1", "fan[3]=awaiting_input/1", "transform=running/1*"),
            m -> m.waits(NOW),
            List.of(new TaskWait(new TaskInstanceRef("fan", 0), 2, TaskWait.Reason.RETRY_DELAY, NOW.plusSeconds(10), null),
                new TaskWait(new TaskInstanceRef("fan", 1), 2, TaskWait.Reason.RESCHEDULE, NOW.plusSeconds(5), null),
                new TaskWait(new TaskInstanceRef("fan", 2), 1, TaskWait.Reason.TRIGGER, null, null),
                new TaskWait(new TaskInstanceRef("fan", 3), 1, TaskWait.Reason.HUMAN_INPUT, null, null)),
            List.of("extract=success/1", "fan[0]=up_for_retry/1", "fan[1]=up_for_reschedule/2", "fan[2]=deferred/1",
                "fan[3]=awaiting_input/1", "transform=running/1*")),
        new Case("a ready try beside max_active_tasks tries in flight waits for room",
            List.of("extract=success/1", "fan[0]=running/1*", "fan[1]=queued/1*"), m -> m.waits(NOW),
            List.of(new TaskWait(ref("transform"), 1, TaskWait.Reason.MAX_ACTIVE_TASKS, null, "2 of 2 running")),
            List.of("extract=success/1", "fan[0]=running/1*", "fan[1]=queued/1*")),
        new Case("a try its pool had no slot for waits for the pool until its next offer", List.of(),
            m -> {
              m.queued(List.of(QueueResult.poolFull(new AttemptToQueue("extract", -1, 1))), NOW);
              return m.waits(NOW);
            }, List.of(new TaskWait(ref("extract"), 1, TaskWait.Reason.POOL, NOW.plusSeconds(1), "default_pool")),
            List.of()),
        new Case("a try that may retry waits its retry delay from its end", List.of("extract=running/1*"),
            m -> {
              m.settled(m.plan().task("extract"), settled("extract", 1, TaskState.UP_FOR_RETRY));
              return m.untilNextTimer(NOW);
            }, Duration.ofSeconds(10), List.of("extract=up_for_retry/1")),
        new Case("a try that skipped branches skips those not started",
            List.of("extract=running/1*", "transform=none/0", "noop=success/1"),
            m -> {
              m.settled(m.plan().task("extract"), new SettledAttempt(ref("extract"), 1, TaskState.SUCCESS, NOW, null,
                  List.of(ref("transform"), ref("noop"))));
              return m.nothingInFlight();
            }, true, List.of("extract=success/1", "noop=success/1", "transform=skipped/0")),
        new Case("a read-back after a clear keeps tries in flight and sets retry times from end dates",
            List.of("extract=running/2*", "transform=success/1"),
            m -> {
              m.adopt(List.of(snapshot("extract", TaskState.NONE, 1), snapshot("transform", TaskState.UP_FOR_RETRY, 1)),
                  NOW);
              return m.untilNextTimer(NOW);
            }, Duration.ofSeconds(10), List.of("extract=running/2*", "transform=up_for_retry/1")),
        new Case("a cleared mapped task is revised before its instances run again",
            List.of("extract=success/1", "fan[0]=success/1", "fan[1]=success/1"),
            m -> {
              m.adopt(List.of(snapshot("extract", TaskState.SUCCESS, 1), snapshot("fan", 0, TaskState.NONE, 1),
                  snapshot("fan", 1, TaskState.SUCCESS, 1), snapshot("noop", TaskState.SUCCESS, 1),
                  snapshot("transform", TaskState.SUCCESS, 1)), NOW);
              return m.nextStep().revise();
            }, List.of("fan"),
            List.of("extract=success/1", "fan[0]=none/1", "fan[1]=success/1", "noop=success/1", "transform=success/1")),
        new Case("a revision to more instances creates the missing ones",
            List.of("extract=success/1", "fan[0]=none/1", "fan[1]=success/1"),
            m -> { m.revised("fan", 3); return null; }, null,
            List.of("extract=success/1", "fan[0]=none/1", "fan[1]=success/1", "fan[2]=none/0")),
        new Case("a revision to fewer instances removes the rest",
            List.of("extract=success/1", "fan[0]=none/1", "fan[1]=success/1", "fan[2]=none/0"),
            m -> {
              m.revised("fan", 2);
              return m.countsByState();
            }, Map.of("success", 2, "none", 3, "removed", 1),
            List.of("extract=success/1", "fan[0]=none/1", "fan[1]=success/1", "fan[2]=removed/0")),
        new Case("nothing waiting on a clock sleeps until an event", List.of("extract=running/1*"),
            m -> m.untilNextTimer(NOW), null, List.of("extract=running/1*")),
        // ---- tries that wait without a runner
        new Case("a sensor that rescheduled sleeps until its reschedule date", List.of("extract=running/1*"),
            m -> {
              m.settled(m.plan().task("extract"), new SettledAttempt(ref("extract"), 1, TaskState.UP_FOR_RESCHEDULE,
                  NOW, null, List.of(), NOW.plusSeconds(7)));
              return List.of(m.nothingInFlight(), m.untilNextTimer(NOW));
            }, List.of(true, Duration.ofSeconds(7)), List.of("extract=up_for_reschedule/1")),
        new Case("a reschedule due pokes again at the same try, one not yet due does not",
            List.of("extract=success/1", "fan[0]=up_for_reschedule/2@-1", "fan[1]=up_for_reschedule/1@+5"),
            m -> m.attemptsToQueue(List.of(), NOW), List.of(new AttemptToQueue("fan", 0, 2)),
            List.of("extract=success/1", "fan[0]=up_for_reschedule/2", "fan[1]=up_for_reschedule/1")),
        new Case("a try Airflow resumed before its runner parked it is queued again at the same try",
            List.of("extract=running/1*"),
            m -> {
              m.settled(m.plan().task("extract"), settled("extract", 1, TaskState.SCHEDULED));
              return m.attemptsToQueue(List.of(), NOW);
            }, List.of(new AttemptToQueue("extract", -1, 1)), List.of("extract=scheduled/1")),
        new Case("parked tries hold no slot of max_active_tasks",
            List.of("extract=success/1", "fan[0]=deferred/1", "fan[1]=awaiting_input/1"),
            m -> m.attemptsToQueue(List.of(ref("transform")), NOW), List.of(new AttemptToQueue("transform", -1, 1)),
            List.of("extract=success/1", "fan[0]=deferred/1", "fan[1]=awaiting_input/1")),
        new Case("a parked try keeps the run going: no deadlock, nothing to start", List.of("extract=deferred/1"),
            DagRunStateMachine::nextStep, step(List.of(), Optional.empty(), List.of(), List.of(), List.of()),
            List.of("extract=deferred/1")),
        new Case("parked tries are read back 5 s after they parked, then twice as late while nothing changes",
            List.of("extract=deferred/1"),
            m -> {
              List<TaskInstanceRef> atOnce = m.parkedToRead(NOW);
              Duration first = m.untilNextTimer(NOW);
              List<TaskInstanceRef> due = m.parkedToRead(NOW.plusSeconds(5));
              boolean changed = m.parkedRead(List.of(snapshot("extract", TaskState.DEFERRED, 1)), NOW.plusSeconds(5));
              return List.of(atOnce, first, due, changed, m.untilNextTimer(NOW.plusSeconds(5)));
            }, List.of(List.of(), Duration.ofSeconds(5), List.of(ref("extract")), false, Duration.ofSeconds(10)),
            List.of("extract=deferred/1")),
        new Case("unasked reads of parked tries back off to 5 minutes", List.of("extract=awaiting_input/1"),
            m -> {
              Instant at = NOW;
              m.parkedToRead(at);
              for (int read = 0; read < 12; read++) {
                at = at.plus(m.untilNextTimer(at));
                m.parkedRead(m.parkedToRead(at).stream().map(r -> snapshot(r.taskId(), TaskState.AWAITING_INPUT, 1))
                    .toList(), at);
              }
              return m.untilNextTimer(at);
            }, Duration.ofMinutes(5), List.of("extract=awaiting_input/1")),
        new Case("the sweep's signal has parked tries read back at once", List.of("extract=deferred/1"),
            m -> {
              m.parkedToRead(NOW);
              m.resumeSignalled();
              return m.parkedToRead(NOW);
            }, List.of(ref("extract")), List.of("extract=deferred/1")),
        new Case("a parked try Airflow resumed is queued at the same try, and no longer read back",
            List.of("extract=deferred/1"),
            m -> List.of(m.parkedRead(List.of(snapshot("extract", TaskState.SCHEDULED, 1)), NOW),
                m.attemptsToQueue(List.of(), NOW), m.parkedToRead(NOW.plusSeconds(600))),
            List.of(true, List.of(new AttemptToQueue("extract", -1, 1)), List.of()), List.of("extract=scheduled/1")),
        new Case("a parked try its trigger ended takes the state the triggerer wrote", List.of("extract=deferred/1"),
            m -> m.parkedRead(List.of(snapshot("extract", TaskState.SUCCESS, 1)), NOW), true,
            List.of("extract=success/1")),
        new Case("a parked try its trigger failed waits its retry delay", List.of("extract=deferred/1"),
            m -> {
              m.parkedRead(List.of(snapshot("extract", TaskState.UP_FOR_RETRY, 1)), NOW);
              return m.attemptsToQueue(List.of(), NOW.plusSeconds(10));
            }, List.of(new AttemptToQueue("extract", -1, 2)), List.of("extract=up_for_retry/1")),
        new Case("a read-back keeps a deferred try parked and has an up_for_reschedule one wait for its reschedule date",
            List.of("extract=success/1", "transform=running/1*"),
            m -> {
              m.adopt(List.of(snapshot("extract", TaskState.SUCCESS, 1), snapshot("fan", TaskState.DEFERRED, 1),
                  rescheduled("noop", 1, NOW.plusSeconds(30))), NOW);
              return List.of(m.untilNextTimer(NOW), m.attemptsToQueue(List.of(), NOW),
                  m.attemptsToQueue(List.of(), NOW.plusSeconds(30)));
            }, List.of(Duration.ofSeconds(30), List.of(), List.of(new AttemptToQueue("noop", -1, 1))),
            List.of("extract=success/1", "fan=deferred/1", "noop=up_for_reschedule/1", "transform=running/1*")),
        new Case("a read-back of an up_for_reschedule try past its date, or without one, pokes at once",
            List.of("extract=success/1"),
            m -> {
              m.adopt(List.of(snapshot("extract", TaskState.SUCCESS, 1), rescheduled("noop", 2, NOW.minusSeconds(5)),
                  snapshot("transform", TaskState.UP_FOR_RESCHEDULE, 1)), NOW);
              return m.attemptsToQueue(List.of(), NOW);
            }, List.of(new AttemptToQueue("noop", -1, 2), new AttemptToQueue("transform", -1, 1)),
            List.of("extract=success/1", "noop=up_for_reschedule/2", "transform=up_for_reschedule/1")),
        // ---- dagrun_timeout (1 minute in this plan)
        new Case("a run times out only once it is past its dagrun_timeout, as Airflow's strict check",
            List.of("extract=running/1*"),
            m -> {
              m.runStarted(NOW.minusSeconds(60));
              return List.of(m.timedOut(NOW), m.timedOut(NOW.plusMillis(1)));
            }, List.of(false, true), List.of("extract=running/1*")),
        new Case("a run with a dagrun_timeout wakes just past its deadline", List.of("extract=running/1*"),
            m -> {
              m.runStarted(NOW);
              return m.untilNextTimer(NOW);
            }, Duration.ofSeconds(60).plusMillis(1), List.of("extract=running/1*")),
        new Case("a retry due before the deadline wakes the run first", List.of("extract=up_for_retry/1@+5"),
            m -> {
              m.runStarted(NOW);
              return m.untilNextTimer(NOW);
            }, Duration.ofSeconds(5), List.of("extract=up_for_retry/1")),
        new Case("a run whose start date is not known never times out", List.of("extract=running/1*"),
            m -> {
              m.runStarted(null);
              return List.of(m.timedOut(NOW.plus(Duration.ofDays(365))), Optional.ofNullable(m.untilNextTimer(NOW)));
            }, List.of(false, Optional.empty()), List.of("extract=running/1*")),
        new Case("a timed-out run skips every unfinished instance, in flight or not, and keeps the finished ones",
            List.of("extract=success/1", "transform=running/1*", "noop=success/1", "fan[0]=up_for_retry/1",
                "fan[1]=deferred/1", "fan[2]=none/0"),
            m -> {
              m.runStarted(NOW.minusSeconds(120));
              m.timedOutRun();
              return List.of(m.timedOut(NOW), Optional.ofNullable(m.untilNextTimer(NOW)));
            }, List.of(false, Optional.empty()),
            List.of("extract=success/1", "fan[0]=skipped/1", "fan[1]=skipped/1", "fan[2]=skipped/0", "noop=success/1",
                "transform=skipped/1*")),
        new Case("a timed-out run skips the tasks whose instances it has not seen yet", List.of("extract=running/1*"),
            m -> { m.timedOutRun(); return m.countsByState(); }, Map.of("skipped", 4),
            List.of("extract=skipped/1*", "fan=skipped/0", "noop=skipped/0", "transform=skipped/0")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("plansWithoutATimeout")
  void aDagWithoutADagrunTimeoutNeverTimesOut(DagPlan plan) {
    DagRunStateMachine machine = new DagRunStateMachine("etl", null, plan);
    machine.runStarted(NOW);
    assertThat(machine.timedOut(NOW.plus(Duration.ofDays(365)))).isFalse();
    assertThat(machine.untilNextTimer(NOW)).isNull();
  }

  static Stream<DagPlan> plansWithoutATimeout() {
    DagPlan plan = plan();
    return Stream.of(new DagPlan(plan.dagId(), plan.timetable(), plan.maxActiveTasks(), plan.tasks(), Optional.empty()),
        new DagPlan(plan.dagId(), plan.timetable(), plan.maxActiveTasks(), plan.tasks(), null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rules")
  void eachEventGivesAirflowsAnswerAndLeavesTheInstancesSo(Case rule) {
    DagRunStateMachine machine = given(plan(), rule.given());
    assertThat(rule.event().apply(machine)).isEqualTo(rule.answer());
    assertThat(describe(machine)).containsExactlyElementsOf(rule.after());
  }

  private static final StartTrigger TRIGGER = new StartTrigger(
      "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
      "{\"__type\": \"dict\", \"__var\": {\"end_from_trigger\": false}}", "execute_complete", null,
      Optional.of(Duration.ofMinutes(1)));
  private static final AttemptToDefer SENSOR_TRY_1 = new AttemptToDefer("sensor", -1, 1, TRIGGER,
      Optional.of(Duration.ofMinutes(10)));

  /**
   * Tasks that start in Airflow's triggerer (start_from_trigger), as the scheduler's {@code schedule_tis} →
   * {@code defer_task} starts them. The DAG: {@code sensor} (start_from_trigger, execution_timeout 10 minutes, 1
   * retry) and {@code other} both feed {@code report}; max_active_tasks 1.
   */
  static Stream<Case> startFromTriggerRules() {
    return Stream.of(
        new Case("a ready task that starts from its trigger is deferred, not queued", List.of(),
            m -> List.of(m.attemptsToQueue(List.of(ref("sensor")), NOW), m.attemptsToDefer(List.of(ref("sensor")), NOW)),
            List.of(List.of(), List.of(SENSOR_TRY_1)), List.of()),
        new Case("max_active_tasks tries in flight do not hold back a start in the triggerer",
            List.of("other=running/1*"),
            m -> List.of(m.attemptsToDefer(List.of(ref("sensor")), NOW), m.waits(NOW)),
            List.of(List.of(SENSOR_TRY_1), List.of()), List.of("other=running/1*")),
        new Case("a try deferred at its start is parked, not in flight, and read back 5 s later", List.of(),
            m -> List.of(m.queued(List.of(QueueResult.deferred(SENSOR_TRY_1.attempt())), NOW), m.nothingInFlight(),
                m.parkedToRead(NOW), m.untilNextTimer(NOW)),
            List.of(new DagRunStateMachine.Queued(List.of(), true), true, List.of(), Duration.ofSeconds(5)),
            List.of("sensor=deferred/1")),
        new Case("a try Airflow resumed runs its next_method on a worker at the same try", List.of("sensor=scheduled/1"),
            m -> List.of(m.attemptsToDefer(List.of(), NOW), m.attemptsToQueue(List.of(), NOW)),
            List.of(List.of(), List.of(new AttemptToQueue("sensor", -1, 1))), List.of("sensor=scheduled/1")),
        new Case("a try its trigger ended needs no runner", List.of("sensor=deferred/1"),
            m -> List.of(m.parkedRead(List.of(snapshot("sensor", TaskState.SUCCESS, 1)), NOW),
                m.attemptsToDefer(List.of(), NOW), m.attemptsToQueue(List.of(), NOW)),
            List.of(true, List.of(), List.of()), List.of("sensor=success/1")),
        new Case("a retry starts from the trigger again, at the next try", List.of("sensor=up_for_retry/1@-1"),
            m -> m.attemptsToDefer(List.of(), NOW),
            List.of(new AttemptToDefer("sensor", -1, 2, TRIGGER, Optional.of(Duration.ofMinutes(10)))),
            List.of("sensor=up_for_retry/1")),
        new Case("a run recorded before tasks started in the triggerer queues them on a worker", List.of(),
            m -> {
              m.startEveryTaskOnAWorker();
              return List.of(m.attemptsToDefer(List.of(ref("sensor")), NOW), m.attemptsToQueue(List.of(ref("sensor")), NOW));
            }, List.of(List.of(), List.of(new AttemptToQueue("sensor", -1, 1))), List.of()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("startFromTriggerRules")
  void aTaskThatStartsFromItsTriggerIsDeferredAsAirflowsSchedulerDefersIt(Case rule) {
    DagRunStateMachine machine = given(startFromTriggerPlan(), rule.given());
    assertThat(rule.event().apply(machine)).isEqualTo(rule.answer());
    assertThat(describe(machine)).containsExactlyElementsOf(rule.after());
  }

  /** Builds the machine: restored states, with tries marked * queued through the machine so they are in flight. */
  private static DagRunStateMachine given(DagPlan plan, List<String> instances) {
    DagRunStateMachine machine = new DagRunStateMachine("etl", OffsetDateTime.of(2026, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC),
        plan);
    List<TaskProgress> restored = new ArrayList<>();
    List<QueueResult> inFlight = new ArrayList<>();
    for (String spec : instances) {
      String[] labelRest = spec.replace("*", "").split("=");
      String[] stateTry = labelRest[1].split("@")[0].split("/");
      TaskInstanceRef ref = parseRef(labelRest[0]);
      TaskState state = Arrays.stream(TaskState.values()).filter(s -> s.airflowName().equals(stateTry[0])).findFirst()
          .orElseThrow();
      int tryNumber = Integer.parseInt(stateTry[1]);
      Instant retryAt = labelRest[1].contains("@") ? NOW.plusSeconds(Long.parseLong(labelRest[1].split("@")[1])) : null;
      restored.add(new TaskProgress(ref, state, tryNumber, retryAt));
      if (spec.endsWith("*")) {
        inFlight.add(new QueueResult(ref.taskId(), ref.mapIndex(), QueueResult.Outcome.QUEUED, tryNumber, TI_ID, NOW,
            TaskState.QUEUED));
      }
    }
    machine.restore(restored);
    machine.queued(inFlight, NOW);
    machine.restore(restored);  // the states as given (queueing made them queued)
    return machine;
  }

  /** label=state/try, * when in flight, in task and map index order. */
  private static List<String> describe(DagRunStateMachine machine) {
    Map<TaskInstanceRef, String> described = new TreeMap<>();
    machine.carried().forEach(p -> described.put(p.ref(), p.ref().label() + "=" + p.state().airflowName() + "/"
        + p.tryNumber() + (machine.inFlight().contains(p.ref()) ? "*" : "")));
    return List.copyOf(described.values());
  }

  private static TaskInstanceRef parseRef(String label) {
    int bracket = label.indexOf('[');
    return bracket < 0 ? ref(label)
        : new TaskInstanceRef(label.substring(0, bracket), Integer.parseInt(label.substring(bracket + 1, label.length() - 1)));
  }

  private static DagRunStep step(List<TaskInstanceMark> marks, Optional<TaskState> runState, List<String> expand,
                                 List<String> revise, List<TaskInstanceRef> ready) {
    return new DagRunStep(marks, runState, expand, revise, ready);
  }

  private static TaskInstanceMark mark(String taskId, TaskState state) {
    return new TaskInstanceMark(ref(taskId), state);
  }

  private static TaskInstanceRef ref(String taskId) {
    return TaskInstanceRef.of(taskId);
  }

  private static SettledAttempt settled(String taskId, int tryNumber, TaskState state) {
    return new SettledAttempt(ref(taskId), tryNumber, state, NOW, null, List.of());
  }

  private static TaskInstanceSnapshot snapshot(String taskId, TaskState state, int tryNumber) {
    return snapshot(taskId, TaskInstanceRef.UNMAPPED, state, tryNumber);
  }

  private static TaskInstanceSnapshot snapshot(String taskId, int mapIndex, TaskState state, int tryNumber) {
    return new TaskInstanceSnapshot(new TaskInstanceRef(taskId, mapIndex), state, tryNumber, NOW, null, null);
  }

  private static TaskInstanceSnapshot rescheduled(String taskId, int tryNumber, Instant rescheduleDate) {
    return new TaskInstanceSnapshot(new TaskInstanceRef(taskId, TaskInstanceRef.UNMAPPED),
        TaskState.UP_FOR_RESCHEDULE, tryNumber, NOW, null, rescheduleDate);
  }

  private static DagPlan plan() {
    return new DagPlan("etl", new Timetable(Timetable.NULL_TIMETABLE, Optional.empty(), Optional.empty()), 2, List.of(
        task("extract", List.of(), List.of("fan", "noop", "transform"), 2, Optional.empty(), false),
        task("transform", List.of("extract"), List.of(), 0, Optional.empty(), false),
        task("noop", List.of("extract"), List.of(), 0, Optional.empty(), true),
        task("fan", List.of("extract"), List.of(), 0, Optional.of(new ExpandInput(List.of(), List.of("extract"))),
            false)), Optional.of(Duration.ofMinutes(1)));
  }

  private static DagPlan startFromTriggerPlan() {
    return new DagPlan("waits", new Timetable(Timetable.NULL_TIMETABLE, Optional.empty(), Optional.empty()), 1, List.of(
        new TaskPlan("other", "airflow.providers.standard.operators.bash.BashOperator", null, null, List.of(),
            List.of("report"), TriggerRule.ALL_SUCCESS, 0, Duration.ofSeconds(10), 0, Optional.empty(), Optional.empty(),
            "default_pool", 1, "default", 1, "downstream", Optional.empty(), Optional.empty(), List.of(), false, false,
            false, Optional.empty()),
        new TaskPlan("sensor", "airflow.providers.standard.sensors.date_time.DateTimeSensorAsync", null, null, List.of(),
            List.of("report"), TriggerRule.ALL_SUCCESS, 1, Duration.ofSeconds(10), 0, Optional.empty(),
            Optional.of(Duration.ofMinutes(10)), "default_pool", 1, "default", 1, "downstream", Optional.empty(),
            Optional.empty(), List.of(), false, false, false, Optional.of(TRIGGER)),
        task("report", List.of("other", "sensor"), List.of(), 0, Optional.empty(), false)), Optional.empty());
  }

  private static TaskPlan task(String taskId, List<String> upstreams, List<String> downstreams, int retries,
                               Optional<ExpandInput> expandInput, boolean empty) {
    return new TaskPlan(taskId, "airflow.providers.standard.operators.bash.BashOperator", null, null, upstreams,
        downstreams, TriggerRule.ALL_SUCCESS, retries, Duration.ofSeconds(10), 0, Optional.empty(), Optional.empty(),
        "default_pool", 1, "default", 1, "downstream", Optional.empty(), expandInput, List.of(), false, false, empty,
        Optional.empty());
  }
}
