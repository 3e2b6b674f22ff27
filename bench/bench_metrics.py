"""Figures of one DagRun from its TaskInstances (REST API) and, in the Temporal modes, the worker log."""
from __future__ import annotations

import re
import statistics
from datetime import datetime

from airflow_temporal_testing.stack import Stack

# ----------------------------------------------------------------------------------------------
# Run metrics
# ----------------------------------------------------------------------------------------------
def ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def mean(xs):
    xs = [x for x in xs if x is not None]
    return round(statistics.mean(xs), 3) if xs else None


def rnd(x, n=3):
    return None if x is None else round(x, n)


def chain_metrics(tis: list[dict], n: int, dagrun_s: float | None, work_s: float = 0.0) -> dict:
    by_id = {ti["task_id"]: ti for ti in tis}
    order = [by_id.get(f"t_{i:03d}") for i in range(n)]
    gaps, to_sched, sched_to_q, to_queued, q_to_start, durs = [], [], [], [], [], []
    for prev, nxt in zip(order, order[1:]):
        if not prev or not nxt:
            continue
        pe, ns = ts(prev["end_date"]), ts(nxt["start_date"])
        nsch, nq = ts(nxt.get("scheduled_when")), ts(nxt.get("queued_when"))
        if pe is not None and ns is not None:
            gaps.append(ns - pe)
        if pe is not None and nsch is not None:
            to_sched.append(nsch - pe)
        if nsch is not None and nq is not None:
            sched_to_q.append(nq - nsch)
        if pe is not None and nq is not None:  # Temporal-owned runs have no scheduled_when
            to_queued.append(nq - pe)
    for ti in order:
        if ti:
            q, s, e = ts(ti.get("queued_when")), ts(ti["start_date"]), ts(ti["end_date"])
            if q is not None and s is not None:
                q_to_start.append(s - q)
            if s is not None and e is not None:
                durs.append(e - s)
    return {
        "per_task_s": rnd(dagrun_s / n) if dagrun_s else None,
        "overhead_per_task_s": rnd(dagrun_s / n - work_s) if dagrun_s and work_s else None,
        "gap_end_to_next_start_mean_s": mean(gaps),
        "gap_end_to_next_scheduled_mean_s": mean(to_sched),
        "scheduled_to_queued_mean_s": mean(sched_to_q),
        "gap_end_to_next_queued_mean_s": mean(to_queued),
        "queued_to_start_mean_s": mean(q_to_start),
        "ti_duration_mean_s": mean(durs),
    }


def fan_out_metrics(tis: list[dict], n: int, dagrun_s: float | None) -> dict:
    mids = [ti for ti in tis if ti["task_id"].startswith("p_")]
    by_id = {ti["task_id"]: ti for ti in tis}
    starts = [ts(ti["start_date"]) for ti in mids if ti["start_date"]]
    ends = [ts(ti["end_date"]) for ti in mids if ti["end_date"]]
    span = (max(ends) - min(starts)) if starts and ends else None
    events = []
    for ti in mids:
        s, e = ts(ti["start_date"]), ts(ti["end_date"])
        if s is not None and e is not None:
            events += [(s, 1), (e, -1)]
    peak = cur = 0
    for _, d in sorted(events, key=lambda x: (x[0], x[1])):
        cur += d
        peak = max(peak, cur)
    q_to_start = [ts(ti["start_date"]) - ts(ti["queued_when"]) for ti in mids
                  if ti.get("queued_when") and ti["start_date"]]
    durs = [ts(ti["end_date"]) - ts(ti["start_date"]) for ti in mids if ti["start_date"] and ti["end_date"]]
    start, end = by_id.get("start"), by_id.get("end")
    first_gap = (min(starts) - ts(start["end_date"])) if start and start["end_date"] and starts else None
    last_gap = (ts(end["start_date"]) - max(ends)) if end and end["start_date"] and ends else None
    return {
        "per_task_s": rnd(dagrun_s / (n + 2)) if dagrun_s else None,
        "parallel_span_s": rnd(span),
        "parallel_throughput_tasks_per_s": rnd(len(ends) / span) if span else None,
        "peak_running_tis": peak,
        "queued_to_start_mean_s": mean(q_to_start),
        "queued_to_start_max_s": rnd(max(q_to_start)) if q_to_start else None,
        "ti_duration_mean_s": mean(durs),
        "gap_start_end_to_first_parallel_start_s": rnd(first_gap),
        "gap_last_parallel_end_to_end_start_s": rnd(last_gap),
    }


def load_metrics(tis: list[dict], runs: list[dict]) -> dict:
    """Several DagRuns of parallel tasks at once: the span from the first run's start to the last one's end."""
    starts = [ts(r.get("start_date")) for r in runs]
    ends = [ts(r.get("end_date")) for r in runs]
    span = (max(ends) - min(starts)) if starts and ends and None not in starts + ends else None
    parallel = fan_out_metrics(tis, len(tis), None)
    return {
        "runs_span_s": rnd(span, 2),
        "per_task_s": rnd(span / len(tis)) if span and tis else None,
        "throughput_tasks_per_s": rnd(len(tis) / span) if span else None,
        **{k: parallel[k] for k in ("peak_running_tis", "queued_to_start_mean_s", "queued_to_start_max_s",
                                    "ti_duration_mean_s")},
    }


WORKER_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) .*?(Started runner pid (?P<pid>\d+)|Runner) for "
                         r"(?P<dag>[^/\s]+)/(?P<run>[^/\s]+)/(?P<task>\S+) try (?P<try>\d+)(?P<exited> exited)?")


def worker_runner_times(stack: Stack, dag_id: str, run_id: str) -> dict[tuple[str, int], dict]:
    """From the worker JAR log: (task_id, try) -> {"started": epoch, "exited": epoch, "pid": runner pid}.

    The log has time of day only (the JVM's local zone = this machine's); the date is taken from
    the run, adjusting across midnight."""
    out: dict[tuple[str, int], dict] = {}
    ref = datetime.now().astimezone()
    for f in stack.logs_dir.glob("worker-*.log"):
        try:
            lines = f.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            m = WORKER_LINE.match(line)
            if not m or m["dag"] != dag_id or m["run"] != run_id:
                continue
            if not m.group(5).startswith("Started") and not m["exited"]:
                continue
            h, mi, se, ms = (int(m.group(i)) for i in range(1, 5))
            t = ref.replace(hour=h, minute=mi, second=se, microsecond=ms * 1000).timestamp()
            if t > ref.timestamp() + 3600:  # logged before midnight, read after
                t -= 86400
            key = (m["task"], int(m["try"]))
            out.setdefault(key, {})["exited" if m["exited"] else "started"] = t
            if m["pid"]:
                out[key]["pid"] = int(m["pid"])
    return out


def quantile(xs: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation, None for no values."""
    if not xs:
        return None
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def worker_runner_mode(stack: Stack) -> str | None:
    """The worker's --runner (prefork: runners forked by a runner server; spawn: a new interpreter each),
    from its "Worker started: ... runner=MODE" line."""
    for f in stack.logs_dir.glob("worker-*.log"):
        m = re.search(r"Worker started: .*\brunner=(\w+)", f.read_text(errors="replace"))
        if m:
            return m.group(1)
    return None


def runner_metrics(stack: Stack, tis: list[dict], dag_id: str, run_id: str, meta: dict) -> dict:
    """Temporal modes, from the worker log: split queued -> start at the moment the worker started the
    attempt's runner, measure how long the attempt's runner (a pooled runner's supervise(), or a spawned
    runner) goes on after the task's end_date, and (chain) how long after the previous attempt's runner
    ended the next task was queued."""
    times = worker_runner_times(stack, dag_id, run_id)
    dispatch, boot, linger, lifetime = [], [], [], []
    raw = []
    by_task: dict[str, dict] = {}
    for ti in tis:
        t = times.get((ti["task_id"], ti["try_number"])) or {}
        q, s, e = ts(ti.get("queued_when")), ts(ti["start_date"]), ts(ti["end_date"])
        if "started" in t and q is not None:
            dispatch.append(t["started"] - q)
        if "started" in t and s is not None:
            boot.append(s - t["started"])
        if "exited" in t and e is not None:
            linger.append(t["exited"] - e)
        if "started" in t and "exited" in t:
            lifetime.append(t["exited"] - t["started"])
        row = {"task_id": ti["task_id"], "try": ti["try_number"], "queued": q, "runner_started": t.get("started"),
               "start": s, "end": e, "runner_exited": t.get("exited"), "runner_pid": t.get("pid")}
        by_task[ti["task_id"]] = row
        raw.append({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
    out = {
        "runners_seen_in_worker_log": len(times),
        "queued_to_runner_spawned_mean_s": mean(dispatch),
        "runner_spawned_to_ti_start_mean_s": mean(boot),
        "runner_lifetime_mean_s": mean(lifetime),
        "ti_end_to_runner_exit_mean_s": mean(linger),
        "ti_end_to_runner_exit_p50_s": rnd(quantile(linger, 0.5)),
        "ti_end_to_runner_exit_p90_s": rnd(quantile(linger, 0.9)),
        "ti_end_to_runner_exit_max_s": rnd(max(linger)) if linger else None,
        "ti_end_to_runner_exit_min_s": rnd(min(linger)) if linger else None,
        "ti_end_to_runner_exit_count": len(linger),
        "ti_end_to_runner_exit_over_1s": sum(x > 1 for x in linger),
        "ti_end_to_runner_exit_over_2s": sum(x > 2 for x in linger),
        "ti_end_to_runner_exit_over_5s": sum(x > 5 for x in linger),
        "runner_timeline": raw,
    }
    if meta["kind"] == "chain":
        exit_to_queued = []
        for i in range(meta["n"] - 1):
            prev, nxt = by_task.get(f"t_{i:03d}"), by_task.get(f"t_{i + 1:03d}")
            if prev and nxt and prev["runner_exited"] is not None and nxt["queued"] is not None:
                exit_to_queued.append(nxt["queued"] - prev["runner_exited"])
        # TemporalOwned: the workflow settles a try only once its runner is gone, so this is its own step
        # (activity completion, settle + decide + queue); TemporalExecutor: the scheduler does not wait for
        # the runner, so this is usually negative.
        out["prev_runner_exit_to_next_queued_mean_s"] = mean(exit_to_queued)
    return out
