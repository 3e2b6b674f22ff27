package dev.airflowtemporal.workflows.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of {@code worker} and {@code check}; each falls back to the environment Airflow uses. */
final class WorkerSettings {
  @Mixin
  TemporalOptions temporal;

  @Option(names = "--queues", split = ",", defaultValue = "default",
      description = "Airflow queues whose tasks this host runs ('default' is Airflow's default queue); "
          + "queue Q is served on task queue <task-queue>:Q. Default: ${DEFAULT-VALUE}.")
  List<String> queues;

  @Option(names = "--python", defaultValue = "${env:AIRFLOW_TEMPORAL_PYTHON:-python3}",
      description = "Python interpreter of the Airflow installation that runs tasks. Default: ${DEFAULT-VALUE}.")
  String python;

  /** How the worker starts task runners. */
  enum RunnerMode { prefork, spawn }

  @Option(names = "--runner", defaultValue = "${env:AIRFLOW_TEMPORAL_RUNNER:-prefork}",
      description = "prefork: fork each task runner from a Python process that has imported Airflow once "
          + "(python -m airflow_temporal.worker.runner_server, started by the worker; runners are spawned while it is down); "
          + "spawn: start a new interpreter per attempt. Default: ${DEFAULT-VALUE}.")
  RunnerMode runner;

  @Option(names = "--log-folder", description = "Airflow's [logging] base_log_folder. Default: "
      + "AIRFLOW__LOGGING__BASE_LOG_FOLDER, else $AIRFLOW_HOME/logs, else ~/airflow/logs.")
  Path logFolder;

  @Option(names = "--serve-logs", negatable = true, defaultValue = "${env:AIRFLOW_TEMPORAL_SERVE_LOGS:-true}",
      fallbackValue = "true",
      description = "Serve this host's task logs to Airflow's api-server with Airflow's worker log server (python -m "
          + "airflow_temporal.worker.log_server) on [logging] worker_log_server_port, as a Celery worker does; "
          + "--no-serve-logs when the api-server reads them from a shared folder or remote logging. "
          + "Default: ${DEFAULT-VALUE}.")
  boolean serveLogs;

  @Option(names = "--log-server-host", defaultValue = "${env:AIRFLOW_TEMPORAL_LOG_SERVER_HOST:-}",
      description = "Address the log server listens on; it must be reachable at this host's name as Airflow "
          + "records it ([core] hostname_callable). Default: every interface.")
  String logServerHost;

  @Option(names = "--db-url", defaultValue = "${env:AIRFLOW__DATABASE__SQL_ALCHEMY_CONN}",
      description = "Airflow's metadata DB (SQLAlchemy or JDBC PostgreSQL URL). Default: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN.")
  String dbUrl;

  @Option(names = "--schedules", negatable = true, defaultValue = "${env:AIRFLOW__TEMPORAL__SCHEDULES:-false}",
      description = "Mirror the timetables of opted-in DAGs as Temporal Schedules (Temporal-owned runs); must equal "
          + "[temporal] schedules, which keeps Airflow's scheduler from creating their runs too. Default: ${DEFAULT-VALUE}.")
  boolean schedules;

  @Option(names = "--schedule-tag", defaultValue = "${env:AIRFLOW__TEMPORAL__SCHEDULE_TAG:-temporal}",
      description = "DAGs with this tag opt in to Temporal Schedules ('' for none); must equal [temporal] schedule_tag. "
          + "Default: ${DEFAULT-VALUE}.")
  String scheduleTag;

  @Option(names = "--scheduled-dags", split = ",", defaultValue = "${env:AIRFLOW__TEMPORAL__SCHEDULED_DAGS:-}",
      description = "DAG ids that opt in to Temporal Schedules whatever their tags; must equal [temporal] scheduled_dags.")
  List<String> scheduledDags = List.of();

  @Option(names = "--schedule-sync-interval", defaultValue = "30",
      description = "Seconds between two schedule syncs. Default: ${DEFAULT-VALUE}.")
  int scheduleSyncIntervalSeconds;

  @Option(names = "--resume-cleared-runs", negatable = true,
      defaultValue = "${env:AIRFLOW_TEMPORAL_RESUME_CLEARED_RUNS:-true}", fallbackValue = "true",
      description = "Resume Temporal-owned runs whose tasks are cleared in Airflow (UI or REST API) with a sweep "
          + "of Airflow's DB every --cleared-runs-sweep-interval seconds; --no-resume-cleared-runs stops the sweep "
          + "(the last worker started decides). Default: ${DEFAULT-VALUE}.")
  boolean resumeClearedRuns;

  @Option(names = "--cleared-runs-sweep-interval",
      defaultValue = "${env:AIRFLOW_TEMPORAL_CLEARED_RUNS_SWEEP_INTERVAL:-10}",
      description = "Seconds between two sweeps for cleared Temporal-owned runs. Default: ${DEFAULT-VALUE}.")
  int clearedRunsSweepIntervalSeconds;

  @Option(names = "--shutdown-grace", defaultValue = "${env:AIRFLOW_TEMPORAL_SHUTDOWN_GRACE:-600}",
      description = "Seconds a stopping worker (SIGTERM) lets its running attempts finish, polling for nothing new, "
          + "before it kills their runners; keep a Kubernetes terminationGracePeriodSeconds above it. "
          + "Default: ${DEFAULT-VALUE}.")
  int shutdownGraceSeconds;

  @Option(names = "--max-concurrent-tasks", defaultValue = "16",
      description = "Task attempts run at once per queue on this host. Default: ${DEFAULT-VALUE}.")
  int maxConcurrentTasks;

  @Option(names = "--task-queued-timeout", defaultValue = "${env:AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT:-600}",
      description = "Seconds a try of a Temporal-owned run may wait for a worker of its queue to pick it up before it "
          + "fails (and is retried if it has retries left), as Airflow's [scheduler] task_queued_timeout. "
          + "Default: AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT, else 600.")
  double taskQueuedTimeoutSeconds;

  @Option(names = "--metrics-port", defaultValue = "${env:AIRFLOW__TEMPORAL__METRICS_PORT:-0}",
      description = "Serve Prometheus metrics (/metrics) and health probes (/livez, /readyz) on this port; "
          + "0: none. Default: AIRFLOW__TEMPORAL__METRICS_PORT, else 0.")
  int metricsPort;

  @Option(names = "--metrics-host", defaultValue = "${env:AIRFLOW__TEMPORAL__METRICS_HOST:-127.0.0.1}",
      description = "Address the metrics port listens on (0.0.0.0 for every interface). Default: ${DEFAULT-VALUE}.")
  String metricsHost;

  Duration taskQueuedTimeout() {
    return Duration.ofMillis(Math.round(taskQueuedTimeoutSeconds * 1000));
  }

  Path resolvedLogFolder() {
    if (logFolder != null) {
      return logFolder;
    }
    Map<String, String> env = System.getenv();
    if (env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER") != null) {
      return Path.of(env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER"));
    }
    String home = env.getOrDefault("AIRFLOW_HOME", System.getProperty("user.home") + "/airflow");
    return Path.of(home, "logs");
  }
}
