"""The fidelity corpus, as data: which DAGs run, which are left out and why, which differences between
modes Airflow itself leaves open, and which gaps of our modes are known today (issue 8).

Adding a DAG is one line: its id in EXAMPLE_DAGS (an example of a corpus package) or OWN_DAGS (a file in
examples/dags). A gap closed by a fix makes the test fail until its KNOWN_GAPS line is deleted."""
from __future__ import annotations

from dataclasses import dataclass

# Airflow's DAG bundle for each package's example DAGs ([core] load_examples = True).
EXAMPLE_BUNDLES = {
    "example_dags": "apache-airflow",
    "apache-airflow-providers-standard-example-dags": "apache-airflow-providers-standard",
}

# Every DAG id the two packages ship (3.3.2 / 1.21.0), by package; EXCLUDED says which do not run.
EXAMPLE_DAGS = {
    "apache-airflow": (
        "aggregate_regional_sales", "asset1_producer", "asset2_producer",
        "asset_alias_example_alias_consumer", "asset_alias_example_alias_consumer_with_no_taskflow",
        "asset_alias_example_alias_producer", "asset_alias_example_alias_producer_with_no_taskflow",
        "asset_consumes_1", "asset_consumes_1_and_2", "asset_consumes_1_never_scheduled",
        "asset_consumes_unknown_never_scheduled", "asset_produces_1", "asset_produces_2",
        "asset_s3_bucket_consumer", "asset_s3_bucket_consumer_with_no_taskflow", "asset_s3_bucket_producer",
        "asset_s3_bucket_producer_with_no_taskflow", "asset_with_extra_by_context", "asset_with_extra_by_yield",
        "asset_with_extra_from_classic_operator", "clean_and_combine_player_stats", "compute_player_odds",
        "conditional_asset_and_time_based_timetable", "consume_1_and_2_with_asset_expressions",
        "consume_1_or_2_with_asset_expressions", "consume_1_or_both_2_and_3_with_asset_expressions",
        "consumes_asset_decorator", "daily_inference", "daily_team_a_rollup",
        "example_asset_state_store_consumer", "example_asset_state_store_producer", "example_asset_with_watchers",
        "example_branch_dop_operator_v3", "example_branch_labels", "example_complex", "example_custom_weight",
        "example_dag_decorator", "example_display_name", "example_dynamic_task_mapping",
        "example_dynamic_task_mapping_with_no_taskflow_operators", "example_failed_dag",
        "example_kubernetes_executor", "example_local_kubernetes_executor",
        "example_nested_branch_dag", "example_params_trigger_ui", "example_params_ui_tutorial",
        "example_passing_params_via_test_command", "example_retry_policy", "example_setup_teardown",
        "example_setup_teardown_taskflow", "example_simplest_dag", "example_skip_dag", "example_task_group",
        "example_task_group_decorator", "example_task_group_mapping", "example_task_mapping_second_order",
        "example_task_state_store", "example_task_state_store_async", "example_task_state_store_mapped",
        "example_time_delta_sensor_async", "example_trigger_target_dag", "example_workday_timetable",
        "example_xcom", "example_xcom_args", "example_xcom_args_with_operators", "ingest_region_stats",
        "ingest_regional_sales", "ingest_team_a_player_stats", "latest_only_with_trigger",
        "live_region_player_stats", "monthly_team_a_rollup", "multi_region_player_stats",
        "player_odds_quality_check_wont_ever_to_trigger", "read_asset_event", "read_asset_event_from_classic",
        "regional_stats_breakdown", "scatter_live_region_to_segments", "segment_region_stats_early_rollup",
        "segment_region_stats_rollup", "summarize_live_region_stats", "team_analytics_producer",
        "team_b_player_stats", "team_c_player_stats", "team_ml_consumer", "trailing_week_inference",
        "train_weekly_model", "tutorial", "tutorial_dag", "tutorial_objectstorage", "tutorial_taskflow_api",
        "tutorial_taskflow_api_virtualenv", "tutorial_taskflow_templates",
    ),
    "apache-airflow-providers-standard": (
        "child_dag", "example_bash_decorator", "example_bash_operator", "example_branch_datetime_operator",
        "example_branch_datetime_operator_2", "example_branch_datetime_operator_3", "example_branch_operator",
        "example_branch_python_operator_decorator", "example_external_task", "example_external_task_marker_child",
        "example_external_task_marker_parent", "example_hitl_operator", "example_measurement_correction_decorator",
        "example_measurement_correction_operator", "example_python_decorator", "example_python_operator",
        "example_sensor_decorator", "example_sensors", "example_short_circuit_decorator",
        "example_short_circuit_operator", "example_trigger_controller_dag", "example_weekday_branch_operator",
        "latest_only",
    ),
}

# Our own DAGs (examples/dags), one line each.
OWN_DAGS = (
    "e2e_diff_trigger_rules",
    "e2e_diff_branch",
    "e2e_diff_short_circuit",
    "e2e_diff_retries",
    "e2e_diff_xcom",
    "e2e_diff_pool",
    "e2e_diff_mapped",
    "e2e_diff_mapped_nested",
    "e2e_diff_mapped_xcom_trees",
    # Sensors that start in the triggerer (start_from_trigger); end_from_trigger is in e2e_owned_deferrable (below).
    "e2e_diff_start_from_trigger",
    "e2e_owned_hitl",
    "e2e_owned_callbacks",
    # Not our reschedule-sensor DAGs (tests/e2e runs them in both modes): under the corpus's load their 2 s pokes
    # race Airflow's own scheduler, in LocalExecutor too. When a poke's executor event arrives after its reschedule
    # date, the scheduler has set the TI scheduled already and fails it ("finished with state success, but the
    # task instance's state attribute is scheduled"), so the reference itself is failed or not by chance.
    # Not e2e_owned_deferrable: with the examples loaded, their listener plugin makes Airflow refuse its
    # end_from_trigger task at parse time. The examples' deferrable DAGs stand for it here; tests/e2e runs it.
)

_PIP = "a virtualenv task pip-installs {} from PyPI (network)"
# DAG id -> why it is not in the corpus. Only network, extra packages, a person/outside event it waits for, or a
# race in Airflow's own scheduler that fails the LocalExecutor reference by chance.
EXCLUDED = {
    "example_kubernetes_executor": "needs the cncf.kubernetes provider and a cluster (its file defines no DAG without it)",
    "example_local_kubernetes_executor": "needs the kubernetes package and a cluster (its file defines no DAG without it)",
    "example_dag_decorator": "GetRequestOperator fetches http://httpbin.org/get (network)",
    "tutorial_objectstorage": "reads an HTTP API and writes to S3 (network, s3fs, an AWS connection)",
    "tutorial_taskflow_api_virtualenv": _PIP.format("funcsigs"),
    "example_python_operator": _PIP.format("colorama==0.4.0"),
    "example_python_decorator": _PIP.format("colorama==0.4.0"),
    "example_branch_operator": _PIP.format("numpy~=1.26.0"),
    "example_branch_python_operator_decorator": _PIP.format("numpy~=1.26.0"),
    "example_sensors": "wait_for_file waits (7-day default timeout) for /tmp/temporary_file_for_testing, which "
                       "nothing creates",
    "example_external_task_marker_child": "its reschedule-mode sensors wait up to 600 s for a run of "
                                          "example_external_task_marker_parent at the same logical date",
    "example_hitl_operator": "Airflow's scheduler fails its LocalExecutor reference by chance: "
                             "wait_for_default_option's 1 s response_timeout resumes the task before the scheduler "
                             "reads the executor's success event of its first, awaiting-input part, and that stale "
                             "event fails the queued TI (seen in CI on 2026-12-03; e2e_owned_hitl stands for it)",
}

# What the corpus answers, through the REST API as a person would in the UI, to each Human-in-the-loop task that
# awaits input, the same in every mode. Tasks not listed are left to their response_timeout (and defaults).
HITL_ANSWERS = {
    ("e2e_owned_hitl", "approve"): {"chosen_options": ["Approve"]},
}

# Keys inside XCom values that are left out of the comparison everywhere, with the reason.
IGNORED_XCOM_KEYS = {
    "responded_at": "a Human-in-the-loop response's time: when the corpus answered, or the timeout fired",
}

MODE_NAMES = {"local": "LocalExecutor", "executor": "executor mode", "owned": "Temporal-owned"}


@dataclass(frozen=True)
class AllowedDifference:
    """A field Airflow itself leaves nondeterministic: it may differ from the LocalExecutor run in any mode.
    task_id None: the DagRun; what: 'run state', 'state', 'try_number' or 'xcom:<key>'."""

    dag_id: str
    task_id: str | None
    what: str
    why: str

    def covers(self, dag_id: str, task_id: str | None, what: str) -> bool:
        return (self.dag_id, self.task_id, self.what) == (dag_id, task_id, what)


_RANDOM = "the task returns random.randint(...): a fresh value in every run"
_CLOCK = "rendered from the wall clock when the task runs"
_RUN_ID = "names the run id of the run (each mode's run has its own id by design)"
ALLOWED_DIFFERENCES = (
    AllowedDifference("example_asset_state_store_producer", "load", "xcom:return_value", _RANDOM),
    AllowedDifference("example_task_state_store", "run_job", "xcom:return_value", _RANDOM),
    AllowedDifference("example_task_state_store_mapped", "process_table", "xcom:row_count", _RANDOM),
    AllowedDifference("example_task_state_store_mapped", "process_table", "xcom:processed_at", _CLOCK),
    AllowedDifference("example_task_state_store_mapped", "process_table", "xcom:return_value",
                      f"holds row_count and processed_at: {_RANDOM}; {_CLOCK}"),
    AllowedDifference("tutorial", "print_date", "xcom:return_value", f"the output of `date`: {_CLOCK}"),
    AllowedDifference("example_external_task", "parent_task_sensor", "xcom:_link_ExternalDagLink",
                      f"links the child_dag run of the same logical date, whose run id {_RUN_ID}"),
    # TimeDeltaSensor(deferrable=True) returns True at once when its runner starts 30 s or more after the run's
    # logical date (its data_interval_end here), else it defers and its execute_complete returns None: which
    # one depends on how soon the runner starts (owned runs are triggered through the CLI, seconds later).
    AllowedDifference("example_time_delta_sensor_async", "wait", "xcom:return_value",
                      "True when the runner starts 30 s after the logical date (no deferral), none when it defers: "
                      "depends on the load"),
    AllowedDifference("example_trigger_controller_dag", "test_trigger_dagrun", "xcom:trigger_run_id",
                      "the triggered run's id is manual__<the time it was triggered>"),
    AllowedDifference("example_trigger_controller_dag", "test_trigger_dagrun", "xcom:_link_TriggerDagRunLink",
                      "links the triggered run, whose id is manual__<the time it was triggered>"),
)


@dataclass(frozen=True)
class KnownGap:
    """A mode that today ends a DAG differently from the LocalExecutor run, with the reason. Deleted when the
    gap closes (the test fails on a gap that no longer shows)."""

    dag_id: str
    mode: str  # "executor" or "owned"
    reason: str
    issue: str = "issue 8"


KNOWN_GAPS: tuple[KnownGap, ...] = ()


def corpus_dags() -> list[str]:
    return [d for dags in EXAMPLE_DAGS.values() for d in dags if d not in EXCLUDED] + list(OWN_DAGS)


def package_of(dag_id: str) -> str:
    for package, dags in EXAMPLE_DAGS.items():
        if dag_id in dags:
            return package
    return "examples/dags"


def known_gap(dag_id: str, mode: str) -> KnownGap | None:
    return next((g for g in KNOWN_GAPS if (g.dag_id, g.mode) == (dag_id, mode)), None)


def allowed_difference(dag_id: str, task_id: str | None, what: str) -> AllowedDifference | None:
    return next((a for a in ALLOWED_DIFFERENCES if a.covers(dag_id, task_id, what)), None)
