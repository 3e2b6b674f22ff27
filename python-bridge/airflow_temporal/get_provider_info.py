"""Provider metadata: makes the executor, the ``[temporal]`` config section, the plugin and the CLI known to Airflow."""

from __future__ import annotations

from airflow_temporal import __version__


def _option(description: str, default: str | None, example: str | None = None, *, type_: str = "string",
            sensitive: bool = False) -> dict:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
        "sensitive": sensitive,
    }


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-temporal",
        "name": "Temporal",
        "description": "Run Airflow tasks as Temporal activities, one durable workflow per DagRun.",
        "versions": [__version__],
        "executors": ["airflow_temporal.executors.temporal_executor.TemporalExecutor"],
        "cli": ["airflow_temporal.cli.temporal_commands.get_temporal_cli_commands"],
        "config": {
            "temporal": {
                "description": "Where the TemporalExecutor finds Temporal, how runs link to its UI, and which DAGs "
                               "get their runs from Temporal Schedules.",
                "options": {
                    "address": _option("Temporal frontend host:port.", "localhost:7233", "my-ns.a1b2c.tmprl.cloud:7233"),
                    "namespace": _option("Temporal namespace of the DagRun workflows.", "default"),
                    "task_queue": _option(
                        "Task queue of the DagRun workflows and of tasks on Airflow's default queue; a task with "
                        "queue=Q runs on <task_queue>:Q. Must match the worker's --task-queue.", "airflow"),
                    "api_key": _option("API key (Temporal Cloud). Sent as a bearer token; implies TLS.", "",
                                       sensitive=True),
                    "tls": _option("Use TLS to reach Temporal.", "False", type_="boolean"),
                    "tls_server_ca_cert_path": _option("CA certificate (PEM) that signed the server's certificate.", ""),
                    "tls_client_cert_path": _option("Client certificate (PEM) for mTLS.", ""),
                    "tls_client_key_path": _option("Client private key (PEM) for mTLS.", ""),
                    "tls_server_name": _option("Server name to verify in the server's certificate.", ""),
                    "codec_key": _option(
                        "Encrypt every payload and failure message stored in Temporal (task submissions with their "
                        "token, output tails, run requests) with AES-256-GCM: base64 256-bit keys (openssl rand "
                        "-base64 32), comma-separated; the first encrypts, all decrypt (rotation). The worker reads "
                        "the same AIRFLOW__TEMPORAL__CODEC_KEY. Empty: payloads are stored in clear.", "",
                        sensitive=True),
                    "codec_key_file": _option(
                        "A file holding the codec keys instead (one per line, the first encrypts); the worker reads "
                        "the same AIRFLOW__TEMPORAL__CODEC_KEY_FILE. Set codec_key or this, not both.", "",
                        "/run/secrets/temporal-codec-keys"),
                    "ui_url": _option("Base URL of the Temporal Web UI, for the per-run link in Airflow's UI.",
                                      "http://localhost:8233"),
                    "workflow_idle_timeout": _option(
                        "Seconds a DagRun workflow waits for more tasks once all of its attempts ended and were "
                        "reported, before it completes.", "600", type_="integer"),
                    "rpc_timeout": _option("Seconds for one call to Temporal from the scheduler.", "10",
                                           type_="integer"),
                    "schedules": _option(
                        "Temporal Schedules create the runs of opted-in DAGs; must match the worker's --schedules. "
                        "When True, Airflow's scheduler creates no timetable runs for DAGs tagged schedule_tag or "
                        "listed in scheduled_dags (their asset-triggered and manual runs are unaffected).",
                        "False", type_="boolean"),
                    "schedule_tag": _option(
                        "DAGs with this tag opt in to Temporal Schedules (empty: by dag id only). Must match the "
                        "worker's --schedule-tag (AIRFLOW__TEMPORAL__SCHEDULE_TAG).", "temporal"),
                    "scheduled_dags": _option(
                        "Comma-separated dag ids that opt in to Temporal Schedules whatever their tags. Must match "
                        "the worker's --scheduled-dags (AIRFLOW__TEMPORAL__SCHEDULED_DAGS).", "",
                        "nightly_etl,hourly_sync"),
                    "reuse_dag_parses": _option(
                        "Worker hosts (--runner prefork): a pooled runner parses a DAG file once and hands the parse "
                        "to the task processes it forks while the file and the bundle modules it imports are "
                        "unchanged, instead of each task process parsing it again. False: every task process "
                        "parses its DAG file, as under LocalExecutor. Read when the worker starts.",
                        "True", type_="boolean"),
                },
            }
        },
    }
