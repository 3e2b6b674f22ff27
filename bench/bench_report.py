"""The side-by-side table: medians over repeats, ratios over LocalExecutor, printed and kept in the JSON."""
from __future__ import annotations

import statistics

from airflow_temporal_testing.stack import TEMPORAL_EXECUTOR

# mode -> the stack's [core] executor. TemporalOwned runs on a TemporalExecutor stack (its worker JAR serves both).
EXECUTORS = {"TemporalExecutor": TEMPORAL_EXECUTOR, "TemporalOwned": TEMPORAL_EXECUTOR, "LocalExecutor": "LocalExecutor"}
OWNED = "TemporalOwned"
TEMPORAL_MODES = ("TemporalExecutor", OWNED)
# Table columns: mode -> (header, ratio key, ratio header); ratios are always over LocalExecutor.
RATIO_KEYS = {"TemporalExecutor": ("ratio_temporal_over_local", "ratio T/L"),
              OWNED: ("ratio_owned_over_local", "ratio O/L")}

# ----------------------------------------------------------------------------------------------
# Summary table
# ----------------------------------------------------------------------------------------------
ROWS = [  # (dag kind, label, path into a run result)
    ("*", "state", ("state",)),
    ("*", "task instances", ("tasks",)),
    ("*", "contended by other load (e2e/mvn) during the run", ("contended",)),
    ("*", "wall time, trigger -> success seen (s)", ("wall_s",)),
    ("*", "DagRun start_date -> end_date (s)", ("dagrun_s",)),
    ("*", "trigger -> DagRun start_date (s)", ("trigger_to_dagrun_start_s",)),
    ("*", "per task = DagRun time / tasks (s)", ("per_task_s",)),
    ("chain", "per task beyond its work (s)", ("overhead_per_task_s",)),
    ("load", "all runs: first start -> last end (s)", ("runs_span_s",)),
    ("load", "throughput (tasks/s)", ("throughput_tasks_per_s",)),
    ("load", "peak running at once", ("peak_running_tis",)),
    ("load", "queued -> start, mean (s)", ("queued_to_start_mean_s",)),
    ("chain", "gap: task end -> next task start, mean (s)", ("gap_end_to_next_start_mean_s",)),
    ("chain", "  of it: end -> next scheduled (s)", ("gap_end_to_next_scheduled_mean_s",)),
    ("chain", "  of it: scheduled -> queued (s)", ("scheduled_to_queued_mean_s",)),
    ("chain", "  of it: end -> next queued (s)", ("gap_end_to_next_queued_mean_s",)),
    ("chain", "  Temporal: prev runner exit -> next queued (s)", ("prev_runner_exit_to_next_queued_mean_s",)),
    ("chain", "  of it: queued -> start (s)", ("queued_to_start_mean_s",)),
    ("*", "Temporal: queued -> worker spawned runner (s)", ("queued_to_runner_spawned_mean_s",)),
    ("*", "Temporal: runner spawned -> TI start_date (s)", ("runner_spawned_to_ti_start_mean_s",)),
    ("*", "TI start -> end, mean (s)", ("ti_duration_mean_s",)),
    ("*", "Temporal: TI end -> runner process exit, mean (s)", ("ti_end_to_runner_exit_mean_s",)),
    ("*", "Temporal: TI end -> runner exit, p50 (s)", ("ti_end_to_runner_exit_p50_s",)),
    ("*", "Temporal: TI end -> runner exit, p90 (s)", ("ti_end_to_runner_exit_p90_s",)),
    ("*", "Temporal: TI end -> runner exit, max (s)", ("ti_end_to_runner_exit_max_s",)),
    ("*", "Temporal: runners exiting > 1 s after TI end (count)", ("ti_end_to_runner_exit_over_1s",)),
    ("*", "Temporal: runners exiting > 5 s after TI end (count)", ("ti_end_to_runner_exit_over_5s",)),
    ("fan_out", "parallel tasks: first start -> last end (s)", ("parallel_span_s",)),
    ("fan_out", "parallel tasks: throughput (tasks/s)", ("parallel_throughput_tasks_per_s",)),
    ("fan_out", "parallel tasks: peak running at once", ("peak_running_tis",)),
    ("fan_out", "queued -> start, mean (s)", ("queued_to_start_mean_s",)),
    ("fan_out", "queued -> start, max (s)", ("queued_to_start_max_s",)),
    ("*", "peak RSS executor side, all procs (MB)", ("memory", "rss_executor_total_mb")),
    ("*", "peak RSS scheduler+JVM / scheduler+workers (MB)", ("memory", "rss_executor_excl_tasks_mb")),
    ("*", "peak PSS executor side, all procs (MB)", ("memory", "pss_executor_total_mb")),
    ("*", "peak PSS scheduler+JVM / scheduler+workers (MB)", ("memory", "pss_executor_excl_tasks_mb")),
    ("*", "peak PSS whole stack (MB)", ("memory", "pss_whole_stack_mb")),
    ("*", "peak processes below the JVM / LocalExecutor task processes", ("memory", "task_procs_count")),
    ("*", "peak executor-side processes alive", ("memory", "executor_side_procs_count")),
    ("*", "  of them per running task, at the peak", ("procs_per_running_task",)),
    ("*", "CPU whole machine busy (s)", ("cpu", "cpu_whole_machine_busy_s")),
    ("*", "CPU whole machine per task (s)", ("cpu", "cpu_whole_machine_per_task_s")),
    ("*", "CPU scheduler+worker trees per task (s)", ("cpu", "cpu_executor_side_per_task_s")),
    ("*", "CPU scheduler tree (s)", ("cpu", "cpu_scheduler_s")),
    ("*", "CPU worker JVM tree (s)", ("cpu", "cpu_worker_jvm_s")),
    ("*", "CPU  of it: JVM process (s)", ("cpu", "cpu_worker_jvm_process_s")),
    ("*", "CPU  of it: runner server process (s)", ("cpu", "cpu_runner_server_process_s")),
    ("*", "CPU  of it: runners + task processes (s)", ("cpu", "cpu_runners_and_tasks_s")),
    ("*", "CPU api-server (s)", ("cpu", "cpu_api_server_s")),
    ("*", "CPU postgres (s)", ("cpu", "cpu_postgres_s")),
    ("*", "CPU temporal server (s)", ("cpu", "cpu_temporal_server_s")),
    ("*", "CPU dag-processor (s)", ("cpu", "cpu_dag_processor_s")),
    ("*", "CPU outside the stack (other load) (s)", ("cpu", "cpu_outside_stack_s")),
]


def dig(d: dict, path: tuple):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def median_of(runs: list[dict], path: tuple):
    vals = [dig(r, path) for r in runs]
    if path == ("state",):
        return ",".join(str(v) for v in vals) if vals else None
    if path == ("contended",):
        return ",".join("yes" if v else "no" for v in vals) if vals else None
    vals = [v for v in vals if isinstance(v, (int, float))]
    if not vals:
        return None
    m = statistics.median(vals)
    return round(m, 3) if isinstance(m, float) else m


def ordered(names: list[str]) -> list[str]:
    """Table column order: TemporalExecutor, TemporalOwned, LocalExecutor (whichever were run)."""
    return [n for n in EXECUTORS if n in names]


def ratio_columns(names: list[str]) -> list[tuple[str, str, str]]:
    """(mode, ratio key, header) for each Temporal mode that has a LocalExecutor column to compare with."""
    if "LocalExecutor" not in names:
        return []
    return [(n, *RATIO_KEYS[n]) for n in ordered(names) if n in RATIO_KEYS]


def build_table(results: dict, dags: dict, dag_ids: list[str]) -> list[dict]:
    rows = []
    names = ordered(list(results))
    for dag_id in dag_ids:
        kind = dags[dag_id]["kind"]
        for rkind, label, path in ROWS:
            if rkind not in ("*", kind):
                continue
            vals = {}
            for name in names:
                runs = [r for r in results[name].get("runs", []) if r["dag_id"] == dag_id]
                vals[name] = median_of(runs, path)
            loc = vals.get("LocalExecutor")
            ratios = {}
            for name, key, _ in ratio_columns(names):
                v = vals.get(name)
                ratios[key] = round(v / loc, 2) if isinstance(v, (int, float)) and isinstance(loc, (int, float)) \
                    and loc else None
            rows.append({"dag": dag_id, "metric": label, **vals, **ratios})
    return rows


def fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def print_table(rows: list[dict], names: list[str]) -> str:
    names = ordered(names)
    ratios = ratio_columns(names)
    head = ["metric", *names, *[h for _, _, h in ratios]]
    lines = []
    cur = None
    widths = [52, *[17] * len(names), *[10] * len(ratios)]
    for r in rows:
        if r["dag"] != cur:
            cur = r["dag"]
            lines.append("")
            lines.append(f"== {cur}")
            lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        cells = [r["metric"], *[fmt(r.get(n)) for n in names], *[fmt(r.get(k)) for _, k, _ in ratios]]
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
    text = "\n".join(lines)
    print(text, flush=True)
    return text
