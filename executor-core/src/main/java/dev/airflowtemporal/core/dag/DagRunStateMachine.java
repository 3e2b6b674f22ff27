package dev.airflowtemporal.core.dag;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Where every task instance of one Temporal-owned DagRun stands, and what follows from each event:
 * the per-run bookkeeping Airflow's scheduler keeps in its DB, kept here for the workflow that drives
 * the run. Pure and deterministic (no Temporal, no DB, no clock: the caller passes "now"), so a
 * workflow holds one and replays it exactly.
 *
 * <p>It keeps each task instance's state and try number ({@link TaskProgress}), when an up_for_retry
 * one may run again ({@link RetryDelays}) and when an up_for_reschedule one pokes again, the pool
 * back-off of instances whose pool was full, the tries in flight, which cleared mapped tasks are to be
 * revised before they run again, and when to look again at tries parked for Airflow to resume. The
 * driver asks {@link #nextStep()} what to do ({@link DagRunStep}, from {@link DagRunDecider}'s trigger
 * rules), carries it out against Airflow's DB, and reports what it found through one method per event:
 * {@link #marked}, {@link #expanded}, {@link #revised}, {@link #queued}, {@link #settled} (a try's
 * runner ended and Airflow's DB was read back), {@link #adopt} (the run was read back after a clear),
 * {@link #parkedRead} (the parked tries {@link #parkedToRead} asked for were read back),
 * {@link #timedOutRun} (the run was failed for its dagrun_timeout, which {@link #timedOut} said it passed).
 * {@link #untilNextTimer} says how long it may sleep.
 *
 * <p><b>Tries that wait without a runner</b> (see docs/architecture.md, "Waiting tasks"): a sensor in
 * reschedule mode settles {@link TaskState#UP_FOR_RESCHEDULE} with its reschedule date and is queued
 * again at the <em>same</em> try once that date has come. A try Airflow resumes itself is parked
 * ({@link #PARKED}: deferred, its trigger run by Airflow's triggerer; awaiting_input, answered by a
 * human): it is not in flight (no slot of max_active_tasks, as in Airflow), and {@link #parkedToRead}
 * asks for it to be read back — at once when the cleared-runs sweep signalled that Airflow resumed
 * something ({@link #resumeSignalled}), else on a clock from {@link #PARKED_READ_FIRST} doubling to
 * {@link #PARKED_READ_MAX} — until it has left its parked state. Resumed, it reads
 * {@link TaskState#SCHEDULED} and is queued at the same try; a trigger that ended the task itself
 * leaves it finished (or up_for_retry). A task that starts in the triggerer ({@link StartTrigger}) is
 * deferred instead of queued ({@link #attemptsToDefer}) and parked from its first instant.
 *
 * <p><b>Adding a state</b> (all in this class and {@link TaskState}; the driver only carries out
 * decisions; the waiting states above are the worked examples):
 * <ul>
 *   <li><i>DAG callbacks</i>: {@link DagRunStep#runState()} is where the run's end is decided; a callback
 *       to run first is one more field of {@link DagRunStep} for the driver to start before it ends the
 *       run.</li>
 *   <li><i>Nested mapping</i> (mapping over a mapped task's output): {@link #expanded} and
 *       {@link #revised} are where a task's instances appear; per-index upstreams belong to
 *       {@link DagRunDecider}.</li>
 * </ul>
 */
public final class DagRunStateMachine {
  /** The first pause before a task whose pool was full is offered to its pool again. */
  public static final Duration POOL_RECHECK_FIRST = Duration.ofSeconds(1);
  /** The longest such pause: it doubles from {@link #POOL_RECHECK_FIRST} up to this. */
  public static final Duration POOL_RECHECK_MAX = Duration.ofSeconds(15);
  /** States of a try that waits for another part of Airflow (its triggerer, a human's answer) to resume it. */
  public static final Set<TaskState> PARKED = EnumSet.of(TaskState.DEFERRED, TaskState.AWAITING_INPUT);
  /**
   * The first pause before parked tries are read back unasked (the sweep's signal is the fast path; this
   * catches a trigger that ended its task itself, and a signal never sent).
   */
  public static final Duration PARKED_READ_FIRST = Duration.ofSeconds(5);
  /** The longest such pause: it doubles from {@link #PARKED_READ_FIRST} up to this while nothing changes. */
  public static final Duration PARKED_READ_MAX = Duration.ofMinutes(5);

  private final String dagId;
  private final OffsetDateTime logicalDate;
  private DagPlan plan;
  private DagRunDecider decider;
  /** The plan's tasks by id: {@link DagPlan#task} scans the list, too slow per instance of a 5,000-task plan. */
  private final Map<String, TaskPlan> tasksById = new HashMap<>();
  /** Every task instance, sorted, so that every iteration is the same on replay. */
  private final Map<TaskInstanceRef, TaskProgress> instances = new TreeMap<>();
  /** The state column of {@link #instances}, kept alongside so each decision does not rebuild it. */
  private final Map<TaskInstanceRef, TaskState> states = new HashMap<>();
  private final Set<TaskInstanceRef> inFlight = new TreeSet<>();
  private final Map<TaskInstanceRef, Instant> poolRecheckAt = new TreeMap<>();
  private final Map<TaskInstanceRef, Duration> poolBackoff = new TreeMap<>();
  /** Mapped tasks with instances Airflow cleared: their map indexes are revised before those run again. */
  private final Set<String> toRevise = new TreeSet<>();
  /** When parked tries are next read back unasked; null while none is parked (or none was seen yet). */
  private Instant parkedReadAt;
  private Duration parkedReadBackoff = PARKED_READ_FIRST;
  /** The sweep signalled that Airflow resumed tries of this run: read the parked ones back at once. */
  private boolean parkedReadRequested;
  /** When the run's dagrun_timeout runs out; null without one, or before {@link #runStarted}. */
  private Instant timesOutAt;
  /** Whether tasks with a {@link StartTrigger} start in Airflow's triggerer ({@link #attemptsToDefer}). */
  private boolean startsFromTriggers = true;

  /**
   * @param logicalDate the run's logical date (null for a run without one): part of a retry delay's jitter
   */
  public DagRunStateMachine(String dagId, OffsetDateTime logicalDate, DagPlan plan) {
    this.dagId = dagId;
    this.logicalDate = logicalDate;
    replacePlan(plan);
  }

  /** The plan the run follows now (another DAG version's after a clear onto it). */
  public DagPlan plan() {
    return plan;
  }

  /** The plan's task with this id; {@link InvalidDagException} naming the DAG when there is none. */
  public TaskPlan task(String taskId) {
    TaskPlan task = tasksById.get(taskId);
    return task != null ? task : plan.task(taskId);
  }

  /** Airflow's {@code priority_weight_total} of a task of the plan (see {@link DagRunDecider#priorityWeight}). */
  public int priorityWeight(String taskId) {
    return decider.priorityWeight(taskId);
  }

  /** Follows another DAG version from now on (a run cleared onto it); instances are then {@link #adopt}ed. */
  public void replacePlan(DagPlan newPlan) {
    plan = newPlan;
    decider = new DagRunDecider(newPlan);
    tasksById.clear();
    newPlan.tasks().forEach(task -> tasksById.put(task.taskId(), task));
  }

  /**
   * The run's start date as Airflow's DB has it (null: not known): from then the DAG's dagrun_timeout, if it has
   * one, runs ({@link #timedOut}). Called again after a read-back, since a resumed run starts anew.
   */
  public void runStarted(Instant startDate) {
    timesOutAt = startDate == null ? null : plan.dagrunTimeout().map(startDate::plus).orElse(null);
  }

  /**
   * Whether the run has exceeded its dagrun_timeout: Airflow's scheduler fails a running run once
   * {@code start_date < now - dagrun_timeout} ({@code _schedule_dag_run}).
   */
  public boolean timedOut(Instant now) {
    return timesOutAt != null && now.isAfter(timesOutAt);
  }

  /**
   * The run was failed for its dagrun_timeout: as Airflow's scheduler does, every unfinished task instance
   * (in flight or not) is skipped; a try in flight stays in flight until its runner, stopped by the Execution
   * API, has ended ({@link #settled}). No timeout is pending any more.
   */
  public void timedOutRun() {
    timesOutAt = null;
    Set<String> known = new TreeSet<>();
    instances.keySet().forEach(ref -> known.add(ref.taskId()));
    plan.tasks().stream().map(TaskPlan::taskId).filter(taskId -> !known.contains(taskId))
        .forEach(taskId -> record(TaskProgress.notStarted(TaskInstanceRef.of(taskId))));
    List.copyOf(instances.values()).stream().filter(p -> TaskState.UNFINISHED.contains(p.state()))
        .forEach(p -> record(p.settled(TaskState.SKIPPED)));
  }

  /**
   * Starts every task on a worker, {@code start_from_trigger} or not: how runs recorded before tasks started in
   * the triggerer went on, which must replay as they ran.
   */
  public void startEveryTaskOnAWorker() {
    startsFromTriggers = false;
  }

  /** Takes the task instances a run carried over continue-as-new (nothing is in flight then). */
  public void restore(List<TaskProgress> carried) {
    carried.forEach(this::record);
  }

  /** Every task instance as it stands, for continue-as-new. */
  public List<TaskProgress> carried() {
    return List.copyOf(instances.values());
  }

  /** A task instance as it stands; one not yet known has not started. */
  public TaskProgress progressOf(TaskInstanceRef ref) {
    TaskProgress progress = instances.get(ref);
    return progress != null ? progress : TaskProgress.notStarted(ref);
  }

  /** The task instances whose tries run now, in order. */
  public List<TaskInstanceRef> inFlight() {
    return List.copyOf(inFlight);
  }

  public boolean nothingInFlight() {
    return inFlight.isEmpty();
  }

  /** What to do next (see {@link DagRunStep} for the order to do it in). */
  public DagRunStep nextStep() {
    DagRunDecisions decisions = decider.decide(states);
    List<TaskInstanceMark> marks = new ArrayList<>();
    decisions.mark().forEach((ref, state) -> marks.add(new TaskInstanceMark(ref, state)));
    // Airflow marks a plain EmptyOperator success (try 1) instead of running it.
    decisions.start().stream().filter(ref -> task(ref.taskId()).succeedsWithoutRunning())
        .forEach(ref -> marks.add(new TaskInstanceMark(ref, TaskState.SUCCESS)));
    List<TaskInstanceRef> ready = decisions.start().stream()
        .filter(ref -> !task(ref.taskId()).succeedsWithoutRunning()).toList();
    // A cleared mapped task is about to run again: its upstreams may have recorded another length since.
    List<String> revise = ready.stream().map(TaskInstanceRef::taskId).filter(toRevise::contains).distinct().toList();
    return new DagRunStep(marks, decisions.runState(), decisions.expand(), revise, ready);
  }

  /** The marks of a {@link DagRunStep} are written: an EmptyOperator's success counts as its first try. */
  public void marked(List<TaskInstanceMark> marks) {
    marks.forEach(mark -> record(new TaskProgress(mark.ref(), mark.state(),
        progressOf(mark.ref()).tryNumber() + (mark.state() == TaskState.SUCCESS ? 1 : 0), null)));
  }

  /**
   * A mapped task was expanded into {@code count} instances (none: it is skipped), replacing its
   * unexpanded one; -1 when an upstream it maps over recorded no length, so it cannot run.
   *
   * @return marks the driver is to write: upstream_failed for the unexpanded instance when it cannot run
   */
  public List<TaskInstanceMark> expanded(String taskId, int count) {
    TaskInstanceRef unexpanded = TaskInstanceRef.of(taskId);
    if (count < 0) {
      record(progressOf(unexpanded).settled(TaskState.UPSTREAM_FAILED));
      return List.of(new TaskInstanceMark(unexpanded, TaskState.UPSTREAM_FAILED));
    }
    if (count == 0) {
      record(progressOf(unexpanded).settled(TaskState.SKIPPED));
    } else {
      instances.remove(unexpanded);
      states.remove(unexpanded);
      for (int i = 0; i < count; i++) {
        record(TaskProgress.notStarted(new TaskInstanceRef(taskId, i)));
      }
    }
    return List.of();
  }

  /**
   * A cleared mapped task was revised to the {@code count} its upstreams recorded now: instances at or
   * beyond it are removed, missing ones are created. -1 (an upstream recorded no length) leaves them as
   * they are, as Airflow does.
   */
  public void revised(String taskId, int count) {
    toRevise.remove(taskId);
    if (count < 0) {
      return;
    }
    for (TaskInstanceRef ref : List.copyOf(instances.keySet())) {
      if (ref.taskId().equals(taskId) && ref.mapIndex() >= count && !inFlight.contains(ref)) {
        record(progressOf(ref).settled(TaskState.REMOVED));
      }
    }
    for (int i = 0; i < count; i++) {
      TaskInstanceRef ref = new TaskInstanceRef(taskId, i);
      if (!instances.containsKey(ref)) {
        record(TaskProgress.notStarted(ref));
      }
    }
  }

  /**
   * The tries to queue now, in order: those due for a retry (the next try), due to poke again
   * (up_for_reschedule, the same try) or resumed by Airflow (scheduled, the same try) first — Airflow's
   * scheduler treats them as ready as any other task — then {@code ready}; none whose pool back-off has
   * not run out; no more than the DAG's max_active_tasks leave room for beside the tries in flight.
   *
   * @param ready {@link DagRunStep#ready()}
   */
  public List<AttemptToQueue> attemptsToQueue(List<TaskInstanceRef> ready, Instant now) {
    List<AttemptToQueue> wanted = wanted(ready, now);
    wanted.removeIf(a -> startsFromTrigger(a) || poolRecheckPending(a, now));
    int capacity = plan.maxActiveTasks() - inFlight.size();
    if (wanted.isEmpty() || capacity <= 0) {
      return List.of();
    }
    return List.copyOf(wanted.subList(0, Math.min(capacity, wanted.size())));
  }

  /**
   * The tries to start in Airflow's triggerer now, in order: those {@link #attemptsToQueue} would queue whose task
   * has a {@link StartTrigger} — as Airflow's {@code schedule_tis} defers them ({@code TaskInstance.defer_task})
   * instead of scheduling them — but not a try Airflow resumed (scheduled), which runs its next_method on a
   * worker. Neither pools nor max_active_tasks hold them back: the scheduler defers before either is looked at,
   * and a deferred try takes no slot of max_active_tasks. The driver defers each and reports it {@link #queued}
   * ({@link QueueResult.Outcome#DEFERRED}): it is then parked like any deferred try.
   */
  public List<AttemptToDefer> attemptsToDefer(List<TaskInstanceRef> ready, Instant now) {
    return wanted(ready, now).stream().filter(this::startsFromTrigger).map(attempt -> {
      TaskPlan task = task(attempt.taskId());
      return new AttemptToDefer(attempt.taskId(), attempt.mapIndex(), attempt.tryNumber(), task.startTrigger().orElseThrow(),
          task.executionTimeout());
    }).toList();
  }

  private boolean startsFromTrigger(AttemptToQueue attempt) {
    return startsFromTriggers && task(attempt.taskId()).startTrigger().isPresent()
        && progressOf(new TaskInstanceRef(attempt.taskId(), attempt.mapIndex())).state() != TaskState.SCHEDULED;
  }

  /** The tries due to queue now, before pools and max_active_tasks have their say (see {@link #attemptsToQueue}). */
  private List<AttemptToQueue> wanted(List<TaskInstanceRef> ready, Instant now) {
    List<AttemptToQueue> wanted = new ArrayList<>();
    instances.forEach((ref, progress) -> {
      boolean due = progress.retryAt() == null || !progress.retryAt().isAfter(now);
      int next = switch (progress.state()) {
        case UP_FOR_RETRY -> due ? progress.tryNumber() + 1 : 0;
        case UP_FOR_RESCHEDULE -> due ? progress.tryNumber() : 0;
        case SCHEDULED -> progress.tryNumber();
        default -> 0;
      };
      if (next > 0) {
        wanted.add(new AttemptToQueue(ref.taskId(), ref.mapIndex(), next));
      }
    });
    ready.forEach(ref -> wanted.add(new AttemptToQueue(ref.taskId(), ref.mapIndex(), progressOf(ref).tryNumber() + 1)));
    return wanted;
  }

  private boolean poolRecheckPending(AttemptToQueue attempt, Instant now) {
    Instant recheck = poolRecheckAt.get(new TaskInstanceRef(attempt.taskId(), attempt.mapIndex()));
    return recheck != null && recheck.isAfter(now);
  }

  /**
   * What each task instance not in flight waits for before its next try, in order: a retry delay, a sensor's
   * reschedule date, a trigger (deferred) or a human's answer (awaiting_input), a pool slot, or room under
   * the DAG's max_active_tasks. Changes nothing, so a workflow's query may ask it.
   */
  public List<TaskWait> waits(Instant now) {
    List<TaskWait> waits = new ArrayList<>();
    instances.values().stream().filter(p -> !inFlight.contains(p.ref())).forEach(p -> {
      boolean onClock = p.retryAt() != null && p.retryAt().isAfter(now);
      switch (p.state()) {
        case UP_FOR_RETRY -> {
          if (onClock) waits.add(new TaskWait(p.ref(), p.tryNumber() + 1, TaskWait.Reason.RETRY_DELAY, p.retryAt(), null));
        }
        case UP_FOR_RESCHEDULE -> {
          if (onClock) waits.add(new TaskWait(p.ref(), p.tryNumber(), TaskWait.Reason.RESCHEDULE, p.retryAt(), null));
        }
        case DEFERRED -> waits.add(new TaskWait(p.ref(), p.tryNumber(), TaskWait.Reason.TRIGGER, parkedReadAt, null));
        case AWAITING_INPUT ->
            waits.add(new TaskWait(p.ref(), p.tryNumber(), TaskWait.Reason.HUMAN_INPUT, parkedReadAt, null));
        default -> { }
      }
    });
    List<TaskInstanceRef> ready = decider.decide(states).start().stream()
        .filter(ref -> !task(ref.taskId()).succeedsWithoutRunning()).toList();
    boolean full = plan.maxActiveTasks() - inFlight.size() <= 0;
    for (AttemptToQueue attempt : wanted(ready, now)) {
      if (startsFromTrigger(attempt)) {
        continue;
      }
      TaskInstanceRef ref = new TaskInstanceRef(attempt.taskId(), attempt.mapIndex());
      if (poolRecheckPending(attempt, now)) {
        waits.add(new TaskWait(ref, attempt.tryNumber(), TaskWait.Reason.POOL, poolRecheckAt.get(ref),
            task(ref.taskId()).pool()));
      } else if (full) {
        waits.add(new TaskWait(ref, attempt.tryNumber(), TaskWait.Reason.MAX_ACTIVE_TASKS, null,
            inFlight.size() + " of " + plan.maxActiveTasks() + " running"));
      }
    }
    return waits;
  }

  /**
   * What queueing did to the tries asked for.
   *
   * @param toRun the tries now queued, in order: the driver runs each, then reports it {@link #settled}
   * @param statesChanged whether any task instance changed state (then the run is decided again at once)
   */
  public record Queued(List<QueueResult> toRun, boolean statesChanged) {}

  /**
   * The answers to {@link #attemptsToQueue} and {@link #attemptsToDefer}: a queued try is in flight; a deferred
   * one is parked (not in flight) for Airflow's triggerer to resume; one Airflow settled first (a branch
   * skipped it) takes Airflow's state; one whose pool was full waits, as Airflow's scheduler leaves it
   * scheduled, and is offered again ever less often (an admin may also enlarge the pool).
   */
  public Queued queued(List<QueueResult> results, Instant now) {
    List<QueueResult> toRun = new ArrayList<>();
    boolean changed = false;
    for (QueueResult result : results) {
      TaskInstanceRef ref = new TaskInstanceRef(result.taskId(), result.mapIndex());
      switch (result.outcome()) {
        case QUEUED -> {
          changed = true;
          poolRecheckAt.remove(ref);
          poolBackoff.remove(ref);
          record(new TaskProgress(ref, TaskState.QUEUED, result.tryNumber(), null));
          inFlight.add(ref);
          toRun.add(result);
        }
        case NOT_QUEUEABLE -> {
          record(new TaskProgress(ref, result.state(), result.tryNumber(), null));
          changed = true;
        }
        case DEFERRED -> {
          record(new TaskProgress(ref, TaskState.DEFERRED, result.tryNumber(), null));
          changed = true;
        }
        case POOL_FULL -> {
          Duration backoff = poolBackoff.getOrDefault(ref, POOL_RECHECK_FIRST);
          poolRecheckAt.put(ref, now.plus(backoff));
          Duration next = backoff.multipliedBy(2);
          poolBackoff.put(ref, next.compareTo(POOL_RECHECK_MAX) > 0 ? POOL_RECHECK_MAX : next);
        }
      }
    }
    return new Queued(List.copyOf(toRun), changed);
  }

  /**
   * A try's runner ended and Airflow's DB was read back: the instance takes the state found (with its
   * retry time for up_for_retry), instances the try skipped (branching, short-circuit) that had not
   * started are skipped, and the try is no longer in flight. An instance of a task the plan no longer
   * has (the run was cleared onto a DAG version without it meanwhile) no longer counts.
   *
   * @param task the task as the try started it (its retry delay applies)
   */
  public void settled(TaskPlan task, SettledAttempt settled) {
    Instant retryAt = switch (settled.state()) {
      case UP_FOR_RETRY -> RetryDelays.nextRetryAt(dagId, task, logicalDate, settled.tryNumber(), settled.endDate(),
          settled.retryDelayOverrideSeconds());
      // (A reschedule without its date, which the Execution API always writes, pokes again at once.)
      case UP_FOR_RESCHEDULE -> settled.rescheduleDate() != null ? settled.rescheduleDate() : settled.endDate();
      default -> null;
    };
    TaskInstanceRef ref = settled.ref();
    if (tasksById.containsKey(ref.taskId())) {
      record(new TaskProgress(ref, settled.state(), settled.tryNumber(), retryAt));
    }
    for (TaskInstanceRef skipped : settled.skipped()) {
      if (tasksById.containsKey(skipped.taskId()) && progressOf(skipped).state() == TaskState.NONE) {
        record(progressOf(skipped).settled(TaskState.SKIPPED));
      }
    }
    inFlight.remove(ref);
  }

  /**
   * The run was read back from Airflow's DB (resumed, or cleared while this workflow drove it): every
   * instance not in flight takes the state read (tries in flight settle when their runners end), pool
   * back-offs start over, and expanded mapped tasks with cleared instances are to be revised before
   * those run, as Airflow's scheduler does. Call {@link #replacePlan} first when the DAG version changed.
   *
   * @param now the base of a retry delay for an up_for_retry instance without an end date
   */
  public void adopt(List<TaskInstanceSnapshot> read, Instant now) {
    instances.keySet().removeIf(ref -> !inFlight.contains(ref));
    states.keySet().removeIf(ref -> !inFlight.contains(ref));
    poolRecheckAt.clear();
    poolBackoff.clear();
    for (TaskInstanceSnapshot ti : read) {
      if (inFlight.contains(ti.ref()) || !tasksById.containsKey(ti.ref().taskId())) {
        continue;
      }
      record(progressRead(ti, now));
    }
    toRevise.clear();
    instances.forEach((ref, progress) -> {
      if (ref.mapIndex() >= 0 && progress.state() == TaskState.NONE && !inFlight.contains(ref)) {
        toRevise.add(ref.taskId());
      }
    });
  }

  /**
   * The parked tries to read back now ({@link #parkedRead} takes what was read): all of them when the
   * sweep signalled or their read is due; none otherwise. The first call that finds tries parked with
   * no read scheduled schedules one {@link #PARKED_READ_FIRST} from now.
   */
  public List<TaskInstanceRef> parkedToRead(Instant now) {
    List<TaskInstanceRef> parked = parked();
    if (parked.isEmpty()) {
      parkedReadAt = null;
      parkedReadBackoff = PARKED_READ_FIRST;
      parkedReadRequested = false;
      return List.of();
    }
    if (parkedReadRequested || (parkedReadAt != null && !parkedReadAt.isAfter(now))) {
      return parked;
    }
    if (parkedReadAt == null) {
      parkedReadAt = now.plus(parkedReadBackoff);
    }
    return List.of();
  }

  /** The sweep found tries of this run that Airflow resumed: the parked ones are read back at the next step. */
  public void resumeSignalled() {
    parkedReadRequested = true;
  }

  /**
   * Parked tries were read back ({@link #parkedToRead}): each that left its parked state takes the state
   * read (scheduled: resumed, queued next at the same try; finished or up_for_retry: its trigger ended it).
   * The next unasked read comes {@link #PARKED_READ_FIRST} after a change, else twice as late as the last.
   *
   * @return whether any task instance changed state (then the run is decided again at once)
   */
  public boolean parkedRead(List<TaskInstanceSnapshot> read, Instant now) {
    parkedReadRequested = false;
    boolean changed = false;
    for (TaskInstanceSnapshot ti : read) {
      TaskProgress known = instances.get(ti.ref());
      if (known == null || !PARKED.contains(known.state()) || inFlight.contains(ti.ref())
          || (ti.state() == known.state() && ti.tryNumber() == known.tryNumber())) {
        continue;
      }
      record(progressRead(ti, now));
      changed = true;
    }
    Duration doubled = parkedReadBackoff.multipliedBy(2);
    parkedReadBackoff = changed ? PARKED_READ_FIRST
        : doubled.compareTo(PARKED_READ_MAX) > 0 ? PARKED_READ_MAX : doubled;
    parkedReadAt = now.plus(parkedReadBackoff);
    return changed;
  }

  /**
   * Until the earliest retry, reschedule, pool recheck, read of parked tries or the dagrun_timeout (at least
   * 1 ms), or null
   * when nothing waits on a clock.
   */
  public Duration untilNextTimer(Instant now) {
    Instant next = parked().isEmpty() ? null : parkedReadAt;
    if (timesOutAt != null && (next == null || timesOutAt.isBefore(next))) {
      // Airflow's check is strict (start_date < now - timeout): wake just past the deadline.
      next = timesOutAt.plusMillis(1);
    }
    for (TaskProgress progress : instances.values()) {
      boolean onClock = progress.state() == TaskState.UP_FOR_RETRY || progress.state() == TaskState.UP_FOR_RESCHEDULE;
      if (onClock && progress.retryAt() != null && (next == null || progress.retryAt().isBefore(next))) {
        next = progress.retryAt();
      }
    }
    for (Instant recheck : poolRecheckAt.values()) {
      if (next == null || recheck.isBefore(next)) {
        next = recheck;
      }
    }
    if (next == null) {
      return null;
    }
    Duration wait = Duration.between(now, next);
    return wait.isNegative() || wait.isZero() ? Duration.ofMillis(1) : wait;
  }

  /** How many task instances are in each state (by Airflow's name); a task with none yet counts one None. */
  public Map<String, Integer> countsByState() {
    Map<String, Integer> counts = new TreeMap<>();
    instances.values().forEach(p -> counts.merge(p.state().airflowName(), 1, Integer::sum));
    Set<String> known = new TreeSet<>();
    instances.keySet().forEach(ref -> known.add(ref.taskId()));
    long missing = plan.tasks().stream().filter(t -> !known.contains(t.taskId())).count();
    if (missing > 0) {
      counts.merge(TaskState.NONE.airflowName(), (int) missing, Integer::sum);
    }
    return counts;
  }

  /** The tries in flight, as {@code task[3] try 2}. */
  public List<String> triesInFlight() {
    return inFlight.stream().map(ref -> ref.label() + " try " + progressOf(ref).tryNumber()).toList();
  }

  /** Parked tries, in order (a try in flight never is: its runner has not ended). */
  private List<TaskInstanceRef> parked() {
    return instances.values().stream()
        .filter(p -> PARKED.contains(p.state()) && !inFlight.contains(p.ref()))
        .map(TaskProgress::ref).toList();
  }

  /**
   * A task instance as read from Airflow's DB: an up_for_retry one waits its retry delay from its end
   * date (now without one); an up_for_reschedule one waits for its reschedule date, as
   * {@code ReadyToRescheduleDep} holds it back (at once without one: a read recorded before the date was
   * carried replays as it ran; a sensor poked early reschedules itself).
   */
  private TaskProgress progressRead(TaskInstanceSnapshot ti, Instant now) {
    Instant retryAt = switch (ti.state()) {
      case UP_FOR_RETRY -> RetryDelays.nextRetryAt(dagId, task(ti.ref().taskId()), logicalDate, ti.tryNumber(),
          ti.endDate() != null ? ti.endDate() : now, ti.retryDelayOverrideSeconds());
      case UP_FOR_RESCHEDULE -> ti.rescheduleDate() != null ? ti.rescheduleDate() : now;
      default -> null;
    };
    return new TaskProgress(ti.ref(), ti.state(), ti.tryNumber(), retryAt);
  }

  private void record(TaskProgress progress) {
    instances.put(progress.ref(), progress);
    states.put(progress.ref(), progress.state());
  }
}
