package dev.airflowtemporal.workflows.schedule;

import dev.airflowtemporal.core.schedule.DagSchedule;
import dev.airflowtemporal.core.schedule.DesiredSchedule;
import dev.airflowtemporal.core.schedule.ExistingSchedule;
import dev.airflowtemporal.core.schedule.ScheduleChange;
import dev.airflowtemporal.core.schedule.ScheduleDiff;
import dev.airflowtemporal.core.schedule.ScheduleIds;
import dev.airflowtemporal.core.schedule.ScheduleMapping;
import dev.airflowtemporal.core.schedule.TimetableSchedules;
import dev.airflowtemporal.dbsync.ScheduledDag;
import dev.airflowtemporal.dbsync.ScheduledDags;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleIntervalSpec;
import io.temporal.client.schedules.ScheduleListDescription;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import io.temporal.client.schedules.ScheduleUpdate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads the opted-in DAGs from Airflow's DB and applies the difference to Temporal's schedules. */
public class ScheduleSyncActivitiesImpl implements ScheduleSyncActivities {
  /** In the schedule's note and memo, so that an operator knows who owns it. */
  public static final String MANAGED_NOTE = "managed by airflow-temporal: mirrors the DAG's Airflow timetable";
  public static final String PAUSED_NOTE = "managed by airflow-temporal: the DAG is paused in Airflow";

  /**
   * Firings missed while Temporal itself was down are made up only within this window, as Airflow
   * with {@code catchup=False} does not replay missed intervals; Temporal's minimum is 10 s.
   */
  static final Duration CATCHUP_WINDOW = Duration.ofMinutes(1);

  private static final Logger log = LoggerFactory.getLogger(ScheduleSyncActivitiesImpl.class);

  private final ScheduledDags dags;
  private final ScheduleClient schedules;
  private final String taskQueue;
  /** The last reason logged per DAG, so an unsupported timetable is logged once, not every sync. */
  private final Map<String, String> loggedReasons = new ConcurrentHashMap<>();

  /**
   * @param schedules a client with {@code WireDataConverter}, in the namespace the worker serves
   * @param taskQueue where firings run: the worker's base task queue
   */
  public ScheduleSyncActivitiesImpl(ScheduledDags dags, ScheduleClient schedules, String taskQueue) {
    this.dags = dags;
    this.schedules = schedules;
    this.taskQueue = taskQueue;
  }

  @Override
  public ScheduleSyncSummary sync(ScheduleSyncSettings settings) {
    List<ScheduledDag> optedIn = dags.optedIn(settings.tag(), settings.dagIds());
    List<DesiredSchedule> desired = new ArrayList<>();
    int notScheduled = 0;
    for (ScheduledDag dag : optedIn) {
      ScheduleMapping mapping = dag.timetable() == null
          ? new ScheduleMapping.NotScheduled("its serialized DAG cannot be read: " + dag.unreadable())
          : TimetableSchedules.scheduleFor(dag.timetable());
      if (mapping instanceof ScheduleMapping.Scheduled scheduled) {
        desired.add(new DesiredSchedule(dag.dagId(), scheduled.schedule(), dag.paused()));
        loggedReasons.remove(dag.dagId());
      } else {
        notScheduled++;
        String reason = ((ScheduleMapping.NotScheduled) mapping).reason();
        if (!reason.equals(loggedReasons.put(dag.dagId(), reason))) {
          log.warn("DAG {} opted in to Temporal Schedules but gets none: {}", dag.dagId(), reason);
        }
      }
    }

    TreeSet<String> dagIds = new TreeSet<>();
    desired.forEach(d -> dagIds.add(d.dagId()));
    // Listing is eventually consistent; the desired ones are described by id whatever it says.
    try (Stream<ScheduleListDescription> listed = schedules.listSchedules()) {
      listed.map(s -> ScheduleIds.dagIdOf(s.getScheduleId())).flatMap(Optional::stream).forEach(dagIds::add);
    }
    List<ExistingSchedule> existing = new ArrayList<>();
    for (String dagId : dagIds) {
      describe(dagId).ifPresent(existing::add);
    }

    List<ScheduleChange> changes = ScheduleDiff.between(desired, existing);
    List<ScheduleChange> applied = new ArrayList<>();
    for (ScheduleChange change : changes) {
      try {
        apply(change);
        applied.add(change);
      } catch (RuntimeException e) {
        log.warn("could not apply {} to schedule {}: {}", change, ScheduleIds.forDag(change.dagId()), e.toString());
      }
    }
    long changedExisting = changes.stream().filter(c -> !(c instanceof ScheduleChange.Create)).count();
    return new ScheduleSyncSummary(optedIn.size(), notScheduled,
        count(applied, ScheduleChange.Create.class), count(applied, ScheduleChange.Update.class),
        count(applied, ScheduleChange.Pause.class), count(applied, ScheduleChange.Unpause.class),
        count(applied, ScheduleChange.Delete.class), existing.size() - (int) changedExisting,
        changes.size() - applied.size());
  }

  private static int count(List<ScheduleChange> changes, Class<? extends ScheduleChange> kind) {
    return (int) changes.stream().filter(kind::isInstance).count();
  }

  /** The managed schedule of the DAG as Temporal holds it now; empty when there is none. */
  private Optional<ExistingSchedule> describe(String dagId) {
    ScheduleDescription description;
    try {
      description = schedules.getHandle(ScheduleIds.forDag(dagId)).describe();
    } catch (RuntimeException e) {
      if (isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
    Schedule schedule = description.getSchedule();
    return Optional.of(new ExistingSchedule(dagId, ourAction(schedule), schedule.getState().isPaused()));
  }

  /** The schedule the action was made for, or null when it is not (or no longer) the action we would write. */
  private DagSchedule ourAction(Schedule schedule) {
    if (!(schedule.getAction() instanceof ScheduleActionStartWorkflow action)
        || !ScheduledDagRunWorkflow.WORKFLOW_TYPE.equals(action.getWorkflowType())
        || !taskQueue.equals(action.getOptions().getTaskQueue())) {
      return null;
    }
    try {
      return action.getArguments().get(0, ScheduledDagRunRequest.class).schedule();
    } catch (RuntimeException e) {
      return null; // written by another version of this code: rewrite it
    }
  }

  private void apply(ScheduleChange change) {
    String scheduleId = ScheduleIds.forDag(change.dagId());
    ScheduleHandle handle = schedules.getHandle(scheduleId);
    if (change instanceof ScheduleChange.Create create) {
      try {
        schedules.createSchedule(scheduleId, schedule(create.dagId(), create.schedule(), create.paused()),
            ScheduleOptions.newBuilder()
                .setMemo(Map.of("managed_by", "airflow-temporal", "dag_id", create.dagId()))
                // @once fires once, when its schedule is created; a paused DAG's @once never fires.
                .setTriggerImmediately(create.schedule().once() && !create.paused())
                .build());
        log.info("created schedule {}: {}{}", scheduleId, create.schedule(), create.paused() ? " (paused)" : "");
      } catch (ScheduleAlreadyRunningException e) {
        log.debug("schedule {} was created concurrently", scheduleId);
      }
    } else if (change instanceof ScheduleChange.Update update) {
      handle.update(input -> new ScheduleUpdate(schedule(update.dagId(), update.schedule(), update.paused())));
      log.info("updated schedule {}: {}{}", scheduleId, update.schedule(), update.paused() ? " (paused)" : "");
    } else if (change instanceof ScheduleChange.Pause) {
      handle.pause(PAUSED_NOTE);
      log.info("paused schedule {}: the DAG is paused", scheduleId);
    } else if (change instanceof ScheduleChange.Unpause) {
      handle.unpause(MANAGED_NOTE);
      log.info("unpaused schedule {}: the DAG is unpaused", scheduleId);
    } else if (change instanceof ScheduleChange.Delete) {
      try {
        handle.delete();
        log.info("deleted schedule {}: the DAG no longer opts in, has no timetable we mirror, or is gone", scheduleId);
      } catch (RuntimeException e) {
        if (!isNotFound(e)) {
          throw e;
        }
      }
    }
  }

  private Schedule schedule(String dagId, DagSchedule dagSchedule, boolean paused) {
    ScheduleSpec.Builder spec = ScheduleSpec.newBuilder();
    if (!dagSchedule.cronExpressions().isEmpty()) {
      spec.setCronExpressions(dagSchedule.cronExpressions()).setTimeZoneName(dagSchedule.timezone());
    } else if (dagSchedule.every() != null) {
      spec.setIntervals(List.of(new ScheduleIntervalSpec(dagSchedule.every())));
    }
    return Schedule.newBuilder()
        .setAction(ScheduleActionStartWorkflow.newBuilder()
            .setWorkflowType(ScheduledDagRunWorkflow.class)
            .setArguments(new ScheduledDagRunRequest(dagId, dagSchedule))
            // Temporal appends each firing's time to this id.
            .setOptions(WorkflowOptions.newBuilder().setWorkflowId("scheduled:" + dagId).setTaskQueue(taskQueue).build())
            .build())
        .setSpec(spec.build())
        // Firings never wait for or cancel each other: each is its own DagRun, and Airflow's
        // max_active_runs is the DAG's own business.
        .setPolicy(SchedulePolicy.newBuilder()
            .setOverlap(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL)
            .setCatchupWindow(CATCHUP_WINDOW)
            .build())
        .setState(ScheduleState.newBuilder().setPaused(paused).setNote(paused ? PAUSED_NOTE : MANAGED_NOTE).build())
        .build();
  }

  private static boolean isNotFound(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StatusRuntimeException status && status.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return true;
      }
    }
    return false;
  }
}
