package dev.airflowtemporal.dbsync;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.persistence.LockModeType;
import jakarta.persistence.PersistenceException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.exception.ConstraintViolationException;

/**
 * Creates, finishes and resumes (after Airflow cleared them) the DagRuns a Temporal workflow owns; each
 * call is one short transaction.
 */
public final class DagRuns {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> FINAL_STATES = Set.of("success", "failed");
  /** The run type of runs a Temporal workflow owns. */
  public static final String EXTERNAL = "external";

  private final SessionFactory sessionFactory;

  public DagRuns(AirflowDatabase database) {
    this.sessionFactory = database.sessionFactory();
  }

  /**
   * Inserts the run as Airflow's {@code create_dagrun} would (without its TaskInstances; see
   * {@link TaskInstanceCreation#createAll}). A run asked for {@code running} is created {@code queued} instead
   * while the DAG's {@code max_active_runs} are running (see {@link #resumeExternal}), as the scheduler
   * would leave a triggered run. Idempotent: when (dag_id, run_id) already exists with the same
   * request, that row is returned as it is now, so an activity retried after a crash gets the run it
   * created.
   *
   * @throws RunAlreadyExistsException when the run id, or the logical date, is taken by a different run
   */
  public DagRun createExternal(NewDagRun request) {
    JsonNode conf = parseConf(request.confJson());
    try {
      return sessionFactory.fromTransaction(session -> {
        DagRunRow existing = find(session, request.dagId(), request.runId());
        if (existing != null) {
          return sameRunOrRefuse(existing, request, conf);
        }
        NewDagRun admitted = request.state().equals("running") && !hasRunSlot(session, request.dagId())
            ? request.withState("queued") : request;
        DagRunRow row = newRow(admitted, maxLogTemplateId(session));
        session.persist(row);
        session.flush();
        return DagRun.of(row);
      });
    } catch (PersistenceException e) {
      if (!isConstraintViolation(e)) {
        throw e;
      }
      // A concurrent attempt inserted the same run first, or another run holds the logical date.
      return sessionFactory.fromTransaction(session -> {
        DagRunRow existing = find(session, request.dagId(), request.runId());
        if (existing != null) {
          return sameRunOrRefuse(existing, request, conf);
        }
        String holder = session.createSelectionQuery(
                "select r.runId from DagRunRow r where r.dagId = :dagId and r.logicalDate = :logicalDate", String.class)
            .setParameter("dagId", request.dagId())
            .setParameter("logicalDate", request.logicalDate())
            .uniqueResult();
        throw new RunAlreadyExistsException("cannot create DagRun " + request.dagId() + "/" + request.runId()
            + ": run '" + holder + "' of that DAG already has logical date " + request.logicalDate()
            + " (Airflow allows one run per logical date)");
      });
    }
  }

  /** The run with this id, if Airflow's DB has it. */
  public Optional<DagRun> find(String dagId, String runId) {
    return Optional.ofNullable(sessionFactory.fromTransaction(session -> find(session, dagId, runId))).map(DagRun::of);
  }

  /** What {@link #finish} found. */
  public enum FinishOutcome {
    /** It was running with the expected clear number and is now success or failed. */
    FINISHED,
    /** It had ended already (success or failed, e.g. marked so in the UI) or no longer exists: left alone. */
    ENDED_ELSEWHERE,
    /**
     * Airflow cleared it since the caller read it: queued again, or still running with a newer
     * clear_number (a clear leaves a running run running). Left alone: it is to be read again and resumed.
     */
    CLEARED
  }

  /**
   * Compare-and-set {@code running} → {@code success}/{@code failed}, stamping {@code end_date}, only
   * while the run's {@code clear_number} is {@code expectedClearNumber}: a run Airflow cleared meanwhile
   * has task instances to run again, so it must not be closed on the states the caller saw before.
   * In the same transaction, the DAG's {@code on_success_callback} / {@code on_failure_callback} is
   * requested from the dag-processor as Airflow's scheduler requests it ({@link DagCallbackRequests}):
   * once, since a repeat finds the run ended. A failed run pauses its DAG when it makes the DAG's
   * {@code max_consecutive_failed_dag_runs} ({@link ConsecutiveFailedRuns}).
   */
  public FinishOutcome finish(String dagId, String runId, String state, Instant endDate, int expectedClearNumber) {
    if (!FINAL_STATES.contains(state)) {
      throw new IllegalArgumentException("a DagRun finishes as success or failed, not " + state);
    }
    return sessionFactory.fromTransaction(session -> {
      int updated = session.createMutationQuery(
              "update DagRunRow r set r.state = :state, r.endDate = :endDate, r.updatedAt = :now "
                  + "where r.dagId = :dagId and r.runId = :runId and r.state = 'running' "
                  + "and r.clearNumber = :clearNumber")
          .setParameter("state", state)
          .setParameter("endDate", endDate)
          .setParameter("now", now())
          .setParameter("dagId", dagId)
          .setParameter("runId", runId)
          .setParameter("clearNumber", expectedClearNumber)
          .executeUpdate();
      if (updated == 1) {
        DagCallbackRequests.writeForEndedRun(session, dagId, runId);
        if (state.equals("failed")) {
          ConsecutiveFailedRuns.pauseDagIfLimitReached(session, dagId);
        }
        return FinishOutcome.FINISHED;
      }
      DagRunRow row = find(session, dagId, runId);
      return row == null || FINAL_STATES.contains(row.state) ? FinishOutcome.ENDED_ELSEWHERE : FinishOutcome.CLEARED;
    });
  }

  /**
   * A run as {@link #resumeExternal} found it.
   *
   * @param previousState its state before the call: {@code queued} means this call moved it to running
   * @param run the row after the call
   */
  public record Resumption(String previousState, DagRun run) {
    /** Whether this call took the run from queued (cleared) to running. */
    public boolean resumed() {
      return "queued".equals(previousState) && "running".equals(run.state());
    }
  }

  /**
   * In one transaction, with the DAG's and the run's rows locked: when it is an external run in state
   * {@code queued} (created while the DAG's runs were at {@code max_active_runs}, or a finished run
   * Airflow's clear put back there) and the DAG has a run slot, moves it to {@code running} as the
   * scheduler's {@code _start_queued_dagruns} does (start_date now, end_date cleared); otherwise
   * changes nothing. Of two concurrent callers only one sees {@link Resumption#resumed()}.
   *
   * @return the run, or empty when it does not exist
   */
  public Optional<Resumption> resumeExternal(String dagId, String runId) {
    return Optional.ofNullable(sessionFactory.fromTransaction(session -> {
      boolean slot = hasRunSlot(session, dagId);
      DagRunRow row = lockedRun(session, dagId, runId);
      if (row == null) {
        return null;
      }
      String previous = row.state;
      if (EXTERNAL.equals(row.runType) && "queued".equals(row.state) && slot) {
        Instant now = now();
        row.state = "running";
        row.startDate = now;
        row.endDate = null;
        row.updatedAt = now;
        session.flush();
      }
      return new Resumption(previous, DagRun.of(row));
    }));
  }

  /** What {@link #failExternal} did. */
  public enum FailOutcome {
    /** The run was queued or running: it is failed now, with its unfinished task instances. */
    FAILED,
    /** It had ended already (success or failed): left alone. */
    ALREADY_ENDED,
    /** No such run. */
    MISSING
  }

  /**
   * Fails an external run whose workflow cannot drive it any further, as the UI's "Mark run as
   * failed" ({@code set_dag_run_state_to_failed}) does, in one transaction on the locked run row:
   * task instances in a running state (running, deferred, up_for_reschedule, awaiting_input) become
   * failed, the other unfinished ones (None, scheduled, queued, restarting, up_for_retry) skipped, and
   * the run failed with {@code end_date} now. Unlike the UI it fails teardown tasks too: nothing would
   * schedule them afterwards. A run already ended is left as it is, so a repeated call changes nothing.
   *
   * @throws IllegalArgumentException when the run is not an external (Temporal-owned) run
   */
  public FailOutcome failExternal(String dagId, String runId) {
    return sessionFactory.fromTransaction(session -> {
      DagRunRow row = lockedRun(session, dagId, runId);
      if (row == null) {
        return FailOutcome.MISSING;
      }
      if (!EXTERNAL.equals(row.runType)) {
        throw new IllegalArgumentException("DagRun " + dagId + "/" + runId + " has run_type '" + row.runType
            + "': only external runs are Temporal's to fail");
      }
      if (FINAL_STATES.contains(row.state)) {
        return FailOutcome.ALREADY_ENDED;
      }
      Instant now = now();
      for (String[] change : new String[][] {
          {"failed", "state in ('running', 'deferred', 'up_for_reschedule', 'awaiting_input')"},
          {"skipped", "(state is null or state in ('scheduled', 'queued', 'restarting', 'up_for_retry'))"}}) {
        session.createNativeMutationQuery("""
                update task_instance set
                  state = :state,
                  start_date = coalesce(start_date, cast(:now as timestamptz)),
                  end_date = cast(:now as timestamptz),
                  duration = extract(epoch from cast(:now as timestamptz) - coalesce(start_date, cast(:now as timestamptz))),
                  updated_at = cast(:now as timestamptz)
                where dag_id = :dagId and run_id = :runId and %s""".formatted(change[1]))
            .setParameter("state", change[0], String.class)
            .setParameter("now", now, Instant.class)
            .setParameter("dagId", dagId, String.class)
            .setParameter("runId", runId, String.class)
            .executeUpdate();
      }
      row.state = "failed";
      row.endDate = now;
      row.updatedAt = now;
      session.flush();
      return FailOutcome.FAILED;
    });
  }

  /**
   * External runs Airflow cleared: those {@code queued} (a finished run that was cleared), of DAGs
   * that are neither paused nor stale and due ({@code run_after} passed), as the scheduler's
   * {@code get_queued_dag_runs_to_set_running} picks queued runs; and those still {@code running} that
   * were cleared within {@code recentlyCleared} (a clear sets {@code queued_at} and adds one to
   * {@code clear_number} whatever the run's state). Oldest clear first.
   */
  public List<DagRun> clearedExternalRuns(Duration recentlyCleared) {
    // Two branches, so that each reads only Airflow's partial index of its state (queued / running runs).
    return sessionFactory.fromTransaction(session -> session.createNativeQuery("""
            select r.* from dag_run r join dag d on d.dag_id = r.dag_id
            where r.state = 'queued' and r.run_type = :external
              and not d.is_paused and not d.is_stale and r.run_after <= now()
            union all
            select r.* from dag_run r
            where r.state = 'running' and r.run_type = :external and r.clear_number > 0
              and r.queued_at >= now() - make_interval(secs => :recentSeconds)
            order by queued_at, id""", DagRunRow.class)
        .setParameter("external", EXTERNAL)
        .setParameter("recentSeconds", (double) recentlyCleared.toSeconds())
        .getResultList().stream().map(DagRun::of).toList());
  }

  /**
   * Inside a caller's transaction: throws {@link DagRunClearedException} (rolling it back) unless the
   * run's {@code clear_number} is still {@code expected}. Called after the transaction's writes, so that
   * a clear committed while they waited for a row lock is seen too.
   */
  static void requireClearNumber(Session session, DagRunKey run, int expected) {
    Integer current = session.createNativeQuery(
            "select clear_number from dag_run where dag_id = :dagId and run_id = :runId", Integer.class)
        .setParameter("dagId", run.dagId())
        .setParameter("runId", run.runId())
        .uniqueResult();
    if (current == null || current != expected) {
      throw new DagRunClearedException(run, expected, current);
    }
  }

  /**
   * Whether one more run of the DAG may start: fewer of its runs outside backfills are running than
   * its {@code max_active_runs} (none or 0: no limit), counted as the scheduler's
   * {@code _start_queued_dagruns} counts them. Locks the DAG's row until the caller's transaction
   * ends, so that two callers cannot both take the last slot.
   */
  private static boolean hasRunSlot(Session session, String dagId) {
    Integer maxActiveRuns = session.createNativeQuery(
            "select max_active_runs from dag where dag_id = :dagId for update", Integer.class)
        .setParameter("dagId", dagId)
        .uniqueResult();
    if (maxActiveRuns == null || maxActiveRuns <= 0) {
      return true;
    }
    long running = session.createNativeQuery("""
            select count(*) from dag_run
            where dag_id = :dagId and state = 'running' and backfill_id is null""", Long.class)
        .setParameter("dagId", dagId)
        .getSingleResult();
    return running < maxActiveRuns;
  }

  private static DagRunRow find(Session session, String dagId, String runId) {
    return session.createSelectionQuery("from DagRunRow r where r.dagId = :dagId and r.runId = :runId", DagRunRow.class)
        .setParameter("dagId", dagId)
        .setParameter("runId", runId)
        .uniqueResult();
  }

  /** {@code create_dagrun} points every new run at the newest log filename template. */
  private static Integer maxLogTemplateId(Session session) {
    return session.createNativeQuery("select max(id) from log_template", Integer.class).getSingleResult();
  }

  /** What {@code DagRun.__init__} and its state setter store for a run created queued or running. */
  private static DagRunRow newRow(NewDagRun request, Integer logTemplateId) {
    Instant now = now();
    DagRunRow row = new DagRunRow();
    row.dagId = request.dagId();
    row.runId = request.runId();
    row.runType = request.runType();
    row.state = request.state();
    if (request.state().equals("queued")) {
      row.queuedAt = now;
    } else {
      row.startDate = request.startDate() != null ? request.startDate() : now;
    }
    row.logicalDate = request.logicalDate();
    row.dataIntervalStart = request.dataIntervalStart();
    row.dataIntervalEnd = request.dataIntervalEnd();
    row.runAfter = request.runAfter();
    row.conf = request.confJson();
    row.triggeredBy = request.triggeredBy().name();
    row.triggeringUserName = request.triggeringUserName();
    row.bundleVersion = request.bundleVersion();
    row.createdDagVersionId = request.dagVersionId();
    row.logTemplateId = logTemplateId;
    row.clearNumber = 0;
    row.createdAt = now;
    row.updatedAt = now;
    return row;
  }

  /** The same request again returns the run; its state and dates may have moved on since. */
  private static DagRun sameRunOrRefuse(DagRunRow existing, NewDagRun request, JsonNode conf) {
    List<String> differences = new ArrayList<>();
    compare(differences, "run_type", existing.runType, request.runType());
    compare(differences, "logical_date", existing.logicalDate, request.logicalDate());
    compare(differences, "data_interval_start", existing.dataIntervalStart, request.dataIntervalStart());
    compare(differences, "data_interval_end", existing.dataIntervalEnd, request.dataIntervalEnd());
    compare(differences, "run_after", existing.runAfter, request.runAfter());
    compare(differences, "triggered_by", existing.triggeredBy, request.triggeredBy().name());
    compare(differences, "created_dag_version_id", existing.createdDagVersionId, request.dagVersionId());
    compare(differences, "conf", existing.conf == null ? null : parseConf(existing.conf), conf);
    if (!differences.isEmpty()) {
      throw new RunAlreadyExistsException("DagRun " + request.dagId() + "/" + request.runId()
          + " already exists with different " + String.join(", ", differences)
          + ": pick another run id, or delete the existing run in Airflow first");
    }
    return DagRun.of(existing);
  }

  private static void compare(List<String> differences, String column, Object stored, Object requested) {
    if (stored instanceof Instant s && requested instanceof Instant r) {
      // PostgreSQL keeps microseconds; a request carrying nanoseconds is still the same instant.
      stored = s.truncatedTo(ChronoUnit.MICROS);
      requested = r.truncatedTo(ChronoUnit.MICROS);
    }
    if (!Objects.equals(stored, requested)) {
      differences.add(column + " (stored " + stored + ", requested " + requested + ")");
    }
  }

  private static JsonNode parseConf(String confJson) {
    try {
      JsonNode conf = JSON.readTree(confJson);
      if (!conf.isObject()) {
        throw new IllegalArgumentException("DagRun conf must be a JSON object, got: " + confJson);
      }
      return conf;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("DagRun conf is not JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static boolean isConstraintViolation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConstraintViolationException) {
        return true;
      }
    }
    return false;
  }

  /** Airflow's timestamps are microseconds in UTC. */
  static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  /** The run's row, locked for this transaction (FOR UPDATE), or null when there is none. */
  private static DagRunRow lockedRun(Session session, String dagId, String runId) {
    return session.createSelectionQuery("from DagRunRow r where r.dagId = :dagId and r.runId = :runId", DagRunRow.class)
        .setParameter("dagId", dagId)
        .setParameter("runId", runId)
        .setLockMode(LockModeType.PESSIMISTIC_WRITE)
        .uniqueResult();
  }
}
