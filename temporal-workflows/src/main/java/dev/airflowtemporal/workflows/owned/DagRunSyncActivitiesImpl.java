package dev.airflowtemporal.workflows.owned;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.airflowtemporal.core.dag.AttemptToDefer;
import dev.airflowtemporal.core.dag.AttemptToQueue;
import dev.airflowtemporal.core.dag.DagPlan;
import dev.airflowtemporal.core.dag.DagRunDecider;
import dev.airflowtemporal.core.dag.ExpandInput;
import dev.airflowtemporal.core.dag.InvalidDagException;
import dev.airflowtemporal.core.dag.PackedPlan;
import dev.airflowtemporal.core.dag.QueueResult;
import dev.airflowtemporal.core.dag.SerializedDagParser;
import dev.airflowtemporal.core.dag.SettledAttempt;
import dev.airflowtemporal.core.dag.TaskInstanceMark;
import dev.airflowtemporal.core.dag.TaskInstanceRef;
import dev.airflowtemporal.core.dag.TaskInstanceSnapshot;
import dev.airflowtemporal.core.dag.TaskPlan;
import dev.airflowtemporal.core.dag.TaskState;
import dev.airflowtemporal.core.wire.OwnedDagRunRequest;
import dev.airflowtemporal.core.wire.WireJson;
import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.AttemptReadBack;
import dev.airflowtemporal.dbsync.DagRun;
import dev.airflowtemporal.dbsync.DagRunClearedException;
import dev.airflowtemporal.dbsync.DagRunKey;
import dev.airflowtemporal.dbsync.DagRunTimeouts;
import dev.airflowtemporal.dbsync.DagRuns;
import dev.airflowtemporal.dbsync.FernetKeys;
import dev.airflowtemporal.dbsync.NewDagRun;
import dev.airflowtemporal.dbsync.NewTaskInstance;
import dev.airflowtemporal.dbsync.Pools;
import dev.airflowtemporal.dbsync.RunAlreadyExistsException;
import dev.airflowtemporal.dbsync.SerializedDag;
import dev.airflowtemporal.dbsync.SerializedDags;
import dev.airflowtemporal.dbsync.StoredTaskInstance;
import dev.airflowtemporal.dbsync.TaskInstanceCreation;
import dev.airflowtemporal.dbsync.TaskInstanceDeferral;
import dev.airflowtemporal.dbsync.TaskInstanceQueueing;
import dev.airflowtemporal.dbsync.TaskInstanceSettlement;
import dev.airflowtemporal.dbsync.TaskMaps;
import dev.airflowtemporal.dbsync.TriggeredBy;
import dev.airflowtemporal.dbsync.UnknownDagException;
import dev.airflowtemporal.dbsync.UnknownPoolException;
import dev.airflowtemporal.dbsync.WaitingTaskInstances;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link DagRunSyncActivities} on Airflow's DB through airflow-db-sync. */
public class DagRunSyncActivitiesImpl implements DagRunSyncActivities {
  private static final Logger log = LoggerFactory.getLogger(DagRunSyncActivitiesImpl.class);
  private static final ObjectMapper JSON = WireJson.newMapper();
  static final String RUN_TYPE = DagRuns.EXTERNAL;
  private static final String RUNNING = "running";
  /** The scheduler's {@code msg} for a run it starts ({@code _start_queued_dagruns}). */
  private static final String STARTED = "started";
  /**
   * States a try's runner may end in without the try ending: a sensor between pokes, a deferral Airflow's
   * triggerer runs, a Human-in-the-loop wait, and a wait Airflow already resumed. The workflow waits for
   * them and queues the same try again (docs/architecture.md, "Waiting tasks").
   */
  static final Set<TaskState> WAITING = EnumSet.of(TaskState.UP_FOR_RESCHEDULE, TaskState.DEFERRED,
      TaskState.AWAITING_INPUT, TaskState.SCHEDULED);

  private final SerializedDags serializedDags;
  private final DagRuns dagRuns;
  private final DagRunTimeouts timeouts;
  private final TaskInstanceCreation creation;
  private final TaskInstanceQueueing queueing;
  private final TaskInstanceDeferral deferral;
  private final TaskInstanceSettlement settlement;
  private final Pools pools;
  private final TaskMaps taskMaps;
  private final WaitingTaskInstances waiting;
  private final Duration taskQueuedTimeout;
  private final PythonSteps python;

  /**
   * What the steps hand to Airflow's own Python on this host.
   *
   * @param paramsCheck Airflow's check of a new run's conf against its DAG's params
   * @param listeners listener plugins' DagRun hooks, called after each start and end of a run these steps made
   */
  public record PythonSteps(ParamsCheck paramsCheck, DagRunListeners listeners) {}

  /**
   * @param taskQueuedTimeout Airflow's {@code [scheduler] task_queued_timeout}, handed to the runs this
   *     creates or resumes (see {@link OwnedRun#taskQueuedTimeout()})
   * @param python the steps' Python helpers on this host
   * @param fernet Airflow's {@code [core] fernet_key}, for the trigger rows of tries that start in the triggerer
   */
  public DagRunSyncActivitiesImpl(AirflowDatabase database, Duration taskQueuedTimeout, PythonSteps python,
                                  FernetKeys fernet) {
    this.taskQueuedTimeout = taskQueuedTimeout;
    this.python = python;
    this.serializedDags = new SerializedDags(database);
    this.timeouts = new DagRunTimeouts(database);
    this.dagRuns = new DagRuns(database);
    this.creation = new TaskInstanceCreation(database);
    this.queueing = new TaskInstanceQueueing(database);
    this.deferral = new TaskInstanceDeferral(database, fernet);
    this.settlement = new TaskInstanceSettlement(database);
    this.pools = new Pools(database);
    this.taskMaps = new TaskMaps(database);
    this.waiting = new WaitingTaskInstances(database);
  }

  @Override
  public CreatedDagRun createDagRun(OwnedDagRunRequest request) {
    List<String> problems = request.problems();
    if (!problems.isEmpty()) {
      throw rejected(String.join("; ", problems));
    }
    // A retry after a crash finds the run it created: it keeps that run's DAG version, even if the
    // DAG was re-parsed or paused since.
    Optional<DagRun> existing = dagRuns.find(request.dagId(), request.runId());
    SerializedDag serialized;
    DagPlan plan;
    try {
      serialized = existing.isPresent()
          ? serializedDags.version(request.dagId(), existing.get().dagVersionId())
          : serializedDags.latest(request.dagId());
      plan = SerializedDagParser.parse(serialized.json());
    } catch (UnknownDagException | InvalidDagException e) {
      throw rejected(e.getMessage());
    }
    if (existing.isEmpty() && serialized.paused()) {
      throw rejected("DAG '" + request.dagId() + "' is paused: unpause it in Airflow (UI toggle, or "
          + "`airflow dags unpause " + request.dagId() + "`) to run it");
    }
    checkPools(plan);
    if (existing.isEmpty()) {
      checkParams(serialized, request);
    }
    DagRunDecider decider = new DagRunDecider(plan);
    Instant logicalDate = instant(request.logicalDate());
    NewDagRun newRun = new NewDagRun(request.dagId(), request.runId(), RUN_TYPE, "running", logicalDate,
        logicalDate, logicalDate, instant(request.runAfter()), null, confJson(request),
        TriggeredBy.valueOf(request.triggeredBy().toUpperCase(Locale.ROOT)), request.triggeringUserName(),
        serialized.bundleVersion(), serialized.dagVersionId());
    DagRunKey key = new DagRunKey(request.dagId(), request.runId());
    DagRun stored;
    try {
      stored = dagRuns.createExternal(newRun);
    } catch (RunAlreadyExistsException | IllegalArgumentException e) {
      throw rejected(e.getMessage());
    }
    List<NewTaskInstance> newTasks = plan.tasks().stream()
        .map(task -> newTaskInstance(task, TaskInstanceRef.UNMAPPED, decider.priorityWeight(task.taskId())))
        .toList();
    int inserted = creation.createAll(key, serialized.dagVersionId(), newTasks);
    log.info("Created DagRun {} of {} (dag version {}, {}) with {} task instances", request.runId(), request.dagId(),
        serialized.versionNumber(), stored.state(), inserted);
    if (existing.isEmpty() && RUNNING.equals(stored.state())) { // a retry's earlier attempt told the listeners
      python.listeners().notify(request.dagId(), request.runId(), RUNNING, STARTED);
    }
    OwnedRun run = new OwnedRun(request.dagId(), request.runId(), serialized.dagVersionId(),
        serialized.relativeFileloc(), serialized.bundleName(), serialized.bundleVersion(),
        request.logicalDate() == null ? null : request.logicalDate().truncatedTo(ChronoUnit.MICROS),
        stored.clearNumber(), taskQueuedTimeout, stored.startDate());
    return new CreatedDagRun(run, PackedPlan.pack(plan), "queued".equals(stored.state()));
  }

  /**
   * Refuses a conf the DAG's params reject, as Airflow's {@code create_dagrun} does for every run it creates
   * (a scheduled run whose params fail is not created either: the scheduler logs the error and goes on).
   */
  private void checkParams(SerializedDag serialized, OwnedDagRunRequest request) {
    Optional<String> refusal;
    try {
      refusal = python.paramsCheck().refusal(JSON.readTree(serialized.json()), request.conf());
    } catch (ParamsCheck.ParamsUncheckableException e) {
      throw rejected("the DAG's params could not be checked on this worker host (" + e.getMessage() + "): start "
          + "the worker with --python naming a Python that has apache-airflow and airflow-temporal");
    } catch (IOException e) {
      throw new UncheckedIOException("the serialized DAG parsed a moment ago is no longer JSON", e);
    }
    if (refusal.isPresent()) {
      throw rejected("the run's conf does not satisfy the DAG's params: " + refusal.get() + " (pass a conf that "
          + "does, e.g. --conf '{\"param\": value}', or give the param a valid default in the DAG)");
    }
  }

  @Override
  public ResumedDagRun resumeDagRun(String dagId, String runId, List<TaskInstanceRef> inFlight) {
    Optional<DagRuns.Resumption> found = dagRuns.resumeExternal(dagId, runId);
    if (found.isEmpty()) {
      log.warn("DagRun {} of {} no longer exists: nothing to resume", runId, dagId);
      return ResumedDagRun.nothingToDrive("missing");
    }
    DagRun current = found.get().run();
    if (!DagRuns.EXTERNAL.equals(current.runType())) {
      throw new IllegalArgumentException("DagRun " + dagId + "/" + runId + " has run_type '" + current.runType()
          + "': only external runs are Temporal's to resume");
    }
    boolean resumed = found.get().resumed();
    // Running: this workflow resumed it in an earlier attempt of this step whose answer was lost, or its
    // earlier workflow is gone; Temporal allows no other workflow under the run's id to drive it.
    boolean drivable = resumed || "running".equals(current.state());
    if (!drivable) {
      log.info("DagRun {} of {} is {}: nothing to resume", runId, dagId, current.state());
      return ResumedDagRun.nothingToDrive(current.state());
    }
    if (resumed) { // queued -> running here, as the scheduler's _start_queued_dagruns (a cleared run, a waiting one)
      python.listeners().notify(dagId, runId, RUNNING, STARTED);
    }
    SerializedDag serialized = serializedDags.version(dagId, current.dagVersionId());
    DagPlan plan = SerializedDagParser.parse(serialized.json());
    OwnedRun run = new OwnedRun(dagId, runId, current.dagVersionId(), serialized.relativeFileloc(),
        serialized.bundleName(), current.bundleVersion(),
        current.logicalDate() == null ? null : OffsetDateTime.ofInstant(current.logicalDate(), ZoneOffset.UTC),
        current.clearNumber(), taskQueuedTimeout, current.startDate());
    DagRunKey key = key(run);
    Set<TaskInstanceRef> busy = Set.copyOf(inFlight);
    // A run cleared onto a newer DAG version keeps rows of tasks it no longer has (removed): not ours to drive.
    Map<String, TaskPlan> tasks = plan.tasks().stream().collect(Collectors.toMap(TaskPlan::taskId, t -> t));
    for (StoredTaskInstance ti : settlement.all(key)) {
      TaskInstanceRef ref = ti.ref();
      if (!busy.contains(ref) && tasks.containsKey(ref.taskId())) {
        settleOrphan(run, tasks.get(ref.taskId()), ti);
      }
    }
    List<TaskInstanceSnapshot> snapshots = settlement.all(key).stream()
        .filter(ti -> tasks.containsKey(ti.ref().taskId()))
        .map(DagRunSyncActivitiesImpl::snapshot)
        .toList();
    log.info("{} DagRun {} of {} (clear_number {}, dag version {}): {} task instances read back",
        resumed ? "Resuming cleared" : "Reading back cleared", runId, dagId, current.clearNumber(),
        serialized.versionNumber(), snapshots.size());
    return new ResumedDagRun(resumed, current.state(), run, PackedPlan.pack(plan), snapshots);
  }

  /**
   * A task instance of a run being resumed that no try of the workflow has in flight, made
   * resumable as Airflow would: a try cleared while it ran (restarting) goes back to None to run
   * again, as the scheduler does once its runner has ended; a try left queued or running by a
   * workflow that is gone is failed as handle_failure would (its runner, if alive, is stopped by
   * its next heartbeat). A try that waits (for its reschedule date, its trigger, a human) stays as it is:
   * the workflow waits for it.
   */
  private void settleOrphan(OwnedRun run, TaskPlan task, StoredTaskInstance ti) {
    String label = ti.ref().label();
    switch (ti.state()) {
      case RESTARTING -> {
        if (settlement.restartCleared(key(run), ti.ref(), ti.tryNumber(), task.retries())) {
          log.info("{} of {} was cleared while it ran: it runs again", label, run.runId());
        }
      }
      case QUEUED, RUNNING -> {
        log.warn("{} try {} of {} is {} but no try of this workflow runs it; failing it", label, ti.tryNumber(),
            run.runId(), ti.state().airflowName());
        settlement.failUnfinished(key(run), ti.ref().taskId(), ti.ref().mapIndex(), ti.tryNumber(),
            task.retries() > 0, Instant.now());
      }
      default -> { }
    }
  }

  /** A task instance as read back; a try cleared while it ran that is still in flight reads as running. */
  private static TaskInstanceSnapshot snapshot(StoredTaskInstance ti) {
    TaskState state = ti.state() == TaskState.RESTARTING ? TaskState.RUNNING : ti.state();
    return new TaskInstanceSnapshot(ti.ref(), state, ti.tryNumber(), ti.endDate(), ti.retryDelayOverrideSeconds(),
        ti.rescheduleDate());
  }

  @Override
  public List<TaskInstanceSnapshot> readTaskInstances(OwnedRun run, List<TaskInstanceRef> refs) {
    return waiting.read(key(run), refs).stream().map(DagRunSyncActivitiesImpl::snapshot).toList();
  }

  @Override
  public PackedPlan loadPlan(String dagId, UUID dagVersionId) {
    return PackedPlan.pack(SerializedDagParser.parse(serializedDags.version(dagId, dagVersionId).json()));
  }

  @Override
  public List<QueueResult> queueAttempts(OwnedRun run, List<AttemptToQueue> attempts) {
    List<dev.airflowtemporal.dbsync.QueueResult> results;
    try {
      results = queueing.queue(key(run), run.clearNumber(), attempts);
    } catch (DagRunClearedException e) {
      throw cleared(e);
    }
    return QueueAnswers.of(run.runId(), attempts, results, Instant.now());
  }

  @Override
  public List<QueueResult> deferAttempts(OwnedRun run, List<AttemptToDefer> attempts) {
    List<dev.airflowtemporal.dbsync.QueueResult> results;
    try {
      results = deferral.deferAtStart(key(run), run.clearNumber(), attempts);
    } catch (DagRunClearedException e) {
      throw cleared(e);
    }
    return QueueAnswers.of(run.runId(), attempts.stream().map(AttemptToDefer::attempt).toList(), results,
        Instant.now());
  }

  @Override
  public SettledAttempt settleAttempt(OwnedRun run, String taskId, int mapIndex, int tryNumber, Instant since,
                                      int taskRetries) {
    AttemptReadBack readBack = settlement.readBack(key(run), taskId, mapIndex, since);
    if (readBack.state() == TaskState.RESTARTING) {
      // Cleared while it ran: Airflow told the runner to stop, and runs the task again once it has ended.
      log.info("{} try {} of {} was cleared while it ran: it runs again", taskId, tryNumber, run.runId());
      settlement.restartCleared(key(run), new TaskInstanceRef(taskId, mapIndex), readBack.tryNumber(), taskRetries);
      readBack = settlement.readBack(key(run), taskId, mapIndex, since);
    }
    TaskState state = readBack.state();
    if (WAITING.contains(state)) {
      Instant rescheduleDate = state == TaskState.UP_FOR_RESCHEDULE ? waiting.rescheduleDate(readBack.id()).orElse(null)
          : null;
      log.info("{} try {} of {} is {}{}", taskId, tryNumber, run.runId(), state.airflowName(),
          rescheduleDate != null ? " until " + rescheduleDate : "");
      return new SettledAttempt(new TaskInstanceRef(taskId, mapIndex), readBack.tryNumber(), state,
          readBack.endDate() != null ? readBack.endDate() : Instant.now(), readBack.retryDelayOverrideSeconds(),
          readBack.skippedByOthers(), rescheduleDate);
    }
    if (!state.finished() && state != TaskState.UP_FOR_RETRY && state != TaskState.NONE) {
      // The runner ended without reporting (could not start, crashed, killed at the time limit).
      // (None: Airflow cleared the try; it runs again.)
      log.warn("{} try {} of {} ended without a final state ({}); failing it", taskId, tryNumber, run.runId(),
          readBack.state().airflowName());
      settlement.failUnfinished(key(run), taskId, mapIndex, tryNumber, taskRetries > 0, Instant.now());
      readBack = settlement.readBack(key(run), taskId, mapIndex, since);
      state = readBack.state();
    }
    return new SettledAttempt(new TaskInstanceRef(taskId, mapIndex), readBack.tryNumber(), state,
        readBack.endDate() != null ? readBack.endDate() : Instant.now(), readBack.retryDelayOverrideSeconds(),
        readBack.skippedByOthers());
  }

  @Override
  public void markTasks(OwnedRun run, List<TaskInstanceMark> marks) {
    Map<TaskInstanceRef, TaskState> states = new LinkedHashMap<>();
    marks.forEach(mark -> states.put(mark.ref(), mark.state()));
    try {
      settlement.markAll(key(run), run.clearNumber(), states);
    } catch (DagRunClearedException e) {
      throw cleared(e);
    }
  }

  /**
   * Airflow's {@code TaskMap.expand_mapped_task}: the task's instance count is {@code get_mapped_ti_count}, the
   * product of its own expand input's length (a mapped task) and those of the mapped TaskGroups around it.
   */
  @Override
  public int expandMappedTask(OwnedRun run, TaskPlan task, int priorityWeight) {
    if (!task.needsExpansion()) {
      throw new IllegalArgumentException("task '" + task.taskId() + "' is neither mapped nor in a mapped TaskGroup");
    }
    long count = 1;
    for (ExpandInput input : task.expansionInputs()) {
      Map<String, Integer> lengths = new LinkedHashMap<>();
      for (String upstream : input.sourceTaskIds()) {
        OptionalInt length = input.mapsOverMappedTask(upstream)
            ? taskMaps.mappedTaskLength(key(run), upstream)
            : taskMaps.length(key(run), upstream);
        length.ifPresent(value -> lengths.put(upstream, value));
      }
      OptionalInt inputLength = input.totalLength(lengths);
      if (inputLength.isEmpty()) {
        return -1;
      }
      count *= inputLength.getAsInt();
    }
    try {
      creation.expandMapped(key(run), run.clearNumber(), newTaskInstance(task, TaskInstanceRef.UNMAPPED,
          priorityWeight), Math.toIntExact(count));
    } catch (DagRunClearedException e) {
      throw cleared(e);
    }
    return Math.toIntExact(count);
  }

  @Override
  public void finishDagRun(OwnedRun run, String state) {
    // update_state's msg: "success", or for a failed run task_failure / all_tasks_deadlocked (named by the listeners'
    // process from the run's task instances)
    ended(run, dagRuns.finish(run.dagId(), run.runId(), state, Instant.now(), run.clearNumber()), state,
        "success".equals(state) ? "success" : null);
  }

  @Override
  public void timeOutDagRun(OwnedRun run) {
    ended(run, timeouts.timeOut(run.dagId(), run.runId(), run.clearNumber()), "failed", "timed_out");
  }

  /** A run this step ended (not one a retry finds ended) is handed to the listeners, as the scheduler does. */
  private void ended(OwnedRun run, DagRuns.FinishOutcome outcome, String state, String msg) {
    switch (outcome) {
      case FINISHED -> python.listeners().notify(run.dagId(), run.runId(), state, msg);
      case ENDED_ELSEWHERE -> log.info("DagRun {} of {} had already ended; left as it is", run.runId(), run.dagId());
      case CLEARED -> throw ApplicationFailure.newNonRetryableFailure("DagRun " + run.dagId() + "/" + run.runId()
          + " was cleared in Airflow since clear_number " + run.clearNumber() + ": not finished, to be read back",
          CLEARED);
    }
  }

  @Override
  public void failDagRun(String dagId, String runId, String reason) {
    switch (dagRuns.failExternal(dagId, runId)) {
      case FAILED -> log.error("DagRun {} of {} failed: its workflow cannot drive it any further: {}", runId, dagId,
          reason);
      case ALREADY_ENDED -> log.error("DagRun {} of {} had already ended when its workflow failed: {}", runId, dagId,
          reason);
      case MISSING -> log.error("DagRun {} of {} does not exist; its workflow failed: {}", runId, dagId, reason);
    }
  }

  /** What Airflow's {@code TaskInstance.insert_mapping} copies from the task into a new TI. */
  private static NewTaskInstance newTaskInstance(TaskPlan task, int mapIndex, int priorityWeight) {
    return new NewTaskInstance(task.taskId(), mapIndex, task.pool(), task.poolSlots(), task.queue(), priorityWeight,
        task.retries(), task.taskType(), task.operatorName(), task.displayName(), null);
  }

  /**
   * Every pool exists and can hold each of its tasks; otherwise the run could never finish. Each
   * problem names the tasks it concerns.
   */
  private void checkPools(DagPlan plan) {
    Map<String, List<TaskPlan>> tasksByPool = new TreeMap<>();
    plan.tasks().forEach(t -> tasksByPool.computeIfAbsent(t.pool(), pool -> new ArrayList<>()).add(t));
    List<String> problems = new ArrayList<>();
    tasksByPool.forEach((pool, tasks) -> {
      try {
        int total = pools.slots(pool);
        if (total != Pools.UNLIMITED) {
          tasks.stream().filter(t -> t.poolSlots() > total).forEach(t -> problems.add("task '" + t.taskId()
              + "' needs " + t.poolSlots() + " slots (pool_slots) but pool '" + pool + "' has " + total
              + ": enlarge the pool (Admin > Pools) or lower the task's pool_slots"));
        }
      } catch (UnknownPoolException e) {
        problems.add("task" + (tasks.size() == 1 ? " " : "s ") + tasks.stream().map(t -> "'" + t.taskId() + "'")
            .collect(Collectors.joining(", ")) + ": " + e.getMessage());
      }
    });
    if (!problems.isEmpty()) {
      throw rejected(String.join("; ", problems));
    }
  }

  /** A write refused because Airflow cleared the run: the workflow reads it back instead of retrying. */
  private static ApplicationFailure cleared(DagRunClearedException e) {
    return ApplicationFailure.newNonRetryableFailure(e.getMessage(), CLEARED);
  }

  private static ApplicationFailure rejected(String reason) {
    return ApplicationFailure.newNonRetryableFailure(reason, REJECTED);
  }

  private static String confJson(OwnedDagRunRequest request) {
    try {
      return request.conf() == null || request.conf().isNull() ? "{}" : JSON.writeValueAsString(request.conf());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw rejected("conf cannot be written as JSON: " + e.getOriginalMessage());
    }
  }

  private static Instant instant(OffsetDateTime dateTime) {
    return dateTime == null ? null : dateTime.toInstant().truncatedTo(ChronoUnit.MICROS);
  }

  private static DagRunKey key(OwnedRun run) {
    return new DagRunKey(run.dagId(), run.runId());
  }
}
