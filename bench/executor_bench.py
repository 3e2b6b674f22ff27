#!/usr/bin/env python3
"""TemporalExecutor, Temporal-owned runs and LocalExecutor on the same local stack (scripts/stack.py).

Three modes ("executors" on the command line):
  * TemporalExecutor: Airflow's scheduler creates and schedules the DagRun, the TemporalExecutor hands each
    task to the DagRun's workflow, the worker JAR runs it;
  * TemporalOwned: the same stack (TemporalExecutor configured, one worker JAR), but each DagRun is started
    by Temporal as `airflow temporal trigger DAG_ID --run-id ID` does (the OwnedDagRun workflow, started
    here with the temporalio client like python-bridge's workflow_client.start_owned_run, so that no CLI
    interpreter start is timed): the workflow creates the DagRun (run_type 'external') and decides, queues
    and runs every task itself; the scheduler never touches the run;
  * LocalExecutor: Airflow's scheduler and its LocalExecutor.

For each mode, in one invocation: start a Stack (own state name, free ports, a bench-only DAGs
folder), wait until the bench DAGs are parsed, optionally warm up, run each DAG --repeat times and
measure, stop the stack. Then print a side-by-side table and write bench/results/<timestamp>.json.

What is measured per DagRun (all from Airflow's REST API plus this process's own clock and /proc):
  * wall time: POST dagRuns -> terminal state observed (polled every 0.5 s), and the DagRun's own
    start_date -> end_date;
  * chain: per-task time (DagRun time / N) and, from the TIs, the mean gap between one task's
    end_date and the next task's start_date, split into end -> next scheduled_when -> queued_when ->
    start_date;
  * fan-out: span and throughput of the parallel tasks, queued -> start latency, peak number of TIs
    running at once (from the TI start/end intervals);
  * memory: peak RSS (every 0.5 s) and PSS (every 5 s), summed over processes, of the executor
    side: TemporalExecutor = scheduler + worker JVM (+ the task runner processes the JVM spawns);
    LocalExecutor = scheduler + its LocalExecutor worker children (+ the task processes they fork);
  * CPU seconds used during the run per component (process trees, from /proc/<pid>/stat) and for
    the whole machine (/proc/stat).
No thresholds: this prints what it measured.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

import requests

from airflow_temporal_testing.stack import AT_CACHE, WORKER_JAR, Stack, StackError, WorkerSpec
from bench_dags import WARMUP_DAG, WORK_SECONDS, write_dags
from bench_metrics import chain_metrics, fan_out_metrics, load_metrics, rnd, runner_metrics, ts, worker_runner_mode
from bench_procs import Roots, Sampler, cpu_delta, cpu_snapshot, log, settle, wait_quiet
from bench_report import EXECUTORS, OWNED, TEMPORAL_MODES, build_table, dig, print_table

# ----------------------------------------------------------------------------------------------
# One DagRun
# ----------------------------------------------------------------------------------------------
class OwnedTrigger:
    """Starts Temporal-owned DagRuns as `airflow temporal trigger` does, with the temporalio client
    (python-bridge's DagRunWorkflowClient.start_owned_run) instead of a CLI interpreter per run."""

    def __init__(self, stack: Stack):
        from airflow_temporal.config import TemporalSettings
        from airflow_temporal.executors.workflow_client import DagRunWorkflowClient

        settings = TemporalSettings(address=stack.temporal_address, namespace="default", task_queue="airflow",
                                    ui_url=stack.temporal_ui_url, workflow_idle_timeout=600, rpc_timeout=10,
                                    default_queue="default")
        self.client = DagRunWorkflowClient(settings)
        self.client.start()

    def start(self, dag_id: str) -> str:
        from airflow_temporal.wire import owned_dag_run_request

        now = datetime.now(timezone.utc)
        request = owned_dag_run_request(dag_id=dag_id, run_id=f"bench_owned__{now.strftime('%Y%m%dT%H%M%S.%fZ')}",
                                        conf={}, run_after=now, logical_date=now, triggered_by="cli",
                                        triggering_user_name="bench")
        self.client.start_owned_run(request)
        return request.run_id

    def refusal(self, dag_id: str, run_id: str) -> str | None:
        """Why the run's workflow ended without creating the run, or None while it may still create it."""
        from airflow_temporal.executors.workflow_client import WorkflowClosed, is_transient

        try:
            progress = self.client.owned_run_progress(dag_id, run_id)
        except WorkflowClosed as e:
            return str(e)
        except Exception as e:  # noqa: BLE001
            if is_transient(e):
                return None
            return repr(e)
        return f"rejected: {progress.error}" if progress.state == "rejected" else None

    def stop(self) -> None:
        self.client.stop()


def run_dag(stack: Stack, roots: Roots, sampler: Sampler, dag_id: str, meta: dict, timeout: float,
            poll: float = 0.5, measure: bool = True, owned: OwnedTrigger | None = None) -> dict:
    """Trigger the DAG's DagRuns (meta["runs"], default 1, all at once; POST dagRuns, or with `owned`
    Temporal-owned runs) and poll them to their end."""
    temporal = sampler.temporal
    settle(roots, temporal)
    cpu0 = cpu_snapshot(roots)
    sampler.reset()
    load0 = Path("/proc/loadavg").read_text().split()[0]
    t0 = time.time()
    run_ids = [owned.start(dag_id) if owned else stack.airflow.trigger(dag_id, wait_parsed=0, unpause=False)["dag_run_id"]
               for _ in range(meta.get("runs", 1))]
    t_trig = time.time()
    finals: dict[str, dict] = {}
    pending, refusal, polls, failed_polls = list(run_ids), None, 0, []
    while pending and time.time() - t0 < timeout:
        polls += 1
        for run_id in list(pending):
            # A Temporal-owned run appears in Airflow once its workflow has created it (404 until then).
            try:
                r = stack.airflow.request("GET", f"/dags/{stack.airflow.q(dag_id)}/dagRuns/{stack.airflow.q(run_id)}",
                                          expect=(200, 404))
            except (StackError, requests.RequestException) as exc:
                # The api-server can stall for 30 s and more under a burst of task starts (docs/benchmarks.md):
                # recorded, and the run measured to its end all the same.
                failed_polls.append(f"{time.strftime('%H:%M:%S')} {str(exc)[:200]}")
                log(f"  REST poll failed (run goes on): {str(exc)[:150]}")
                continue
            if r.status_code == 200:
                finals[run_id] = r.json()
                if finals[run_id]["state"] in ("success", "failed"):
                    pending.remove(run_id)
            elif owned and polls % 10 == 0 and (refusal := owned.refusal(dag_id, run_id)):
                pending = []
                break
        if pending:
            time.sleep(poll)
    states = [finals[r]["state"] if r in finals else None for r in run_ids]
    state = ("rejected" if refusal else "timeout" if pending
             else "success" if all(s == "success" for s in states) else "failed")
    t1 = time.time()
    mem = sampler.snapshot()
    cpu1 = cpu_snapshot(roots)
    tis = [ti for run_id in run_ids for ti in stack.airflow.task_instances(dag_id, run_id)]
    ti_states: dict[str, int] = {}
    for ti in tis:
        ti_states[str(ti["state"])] = ti_states.get(str(ti["state"]), 0) + 1
    final = finals.get(run_ids[0])
    ds, de = ts(final.get("start_date")) if final else None, ts(final.get("end_date")) if final else None
    dagrun_s = (de - ds) if ds is not None and de is not None else None
    run_id = run_ids[0] if len(run_ids) == 1 else f"{run_ids[0]} (+{len(run_ids) - 1})"
    res = {
        "dag_id": dag_id, "run_id": run_id, "run_ids": run_ids, "run_type": final.get("run_type") if final else None,
        "state": state, "ti_states": ti_states, "failed_rest_polls": failed_polls,
        "tasks": len(tis), "loadavg_1m_before": float(load0),
        "wall_s": round(t1 - t0, 2), "trigger_call_s": round(t_trig - t0, 3),
        "dagrun_s": rnd(dagrun_s, 2),
        "trigger_to_dagrun_start_s": rnd(ds - t0, 2) if ds is not None else None,
        "dagrun_end_to_observed_s": rnd(t1 - de, 2) if de is not None else None,
    }
    if refusal:
        res["refusal"] = refusal
        log(f"  {dag_id} {run_id}: {refusal}")
    if measure:
        kind = meta["kind"]
        res.update(chain_metrics(tis, meta["n"], dagrun_s, meta.get("work_s", 0.0)) if kind == "chain" else
                   fan_out_metrics(tis, meta["n"], dagrun_s) if kind == "fan_out" else
                   load_metrics(tis, [finals[r] for r in run_ids if r in finals]))
        res["memory"] = mem
        res["cpu"] = cpu = cpu_delta(cpu0, cpu1)
        if tis:
            executor_cpu = cpu.get("cpu_scheduler_s", 0) + cpu.get("cpu_worker_jvm_s", 0)
            cpu["cpu_executor_side_per_task_s"] = round(executor_cpu / len(tis), 2)
            cpu["cpu_whole_machine_per_task_s"] = round(cpu["cpu_whole_machine_busy_s"] / len(tis), 2)
        if res.get("peak_running_tis") and mem.get("executor_side_procs_count") and kind != "chain":
            res["procs_per_running_task"] = round(mem["executor_side_procs_count"] / res["peak_running_tis"], 2)
        if temporal and len(run_ids) == 1:  # the worker log's runner lines name one run
            settle(roots, temporal)  # let the last runners exit so their exit lines are logged
            res.update(runner_metrics(stack, tis, dag_id, run_id, meta))
        if mem.get("foreign_e2e_processes_seen"):
            res["contended"] = mem["foreign_e2e_processes_seen"]
            log(f"  WARNING: other workloads ran during this measurement: {res['contended'][:2]}")
    log(f"  {dag_id} {run_id}: {state} in {res['wall_s']}s wall, DagRun {res['dagrun_s']}s, TIs {ti_states}")
    return res


# ----------------------------------------------------------------------------------------------
# Stack logs
# ----------------------------------------------------------------------------------------------
LOG_PATTERNS = {  # case-sensitive: "uvicorn.error" is a logger name, not a level
    "error": re.compile(r"\[(error|critical)\s*\]|\bERROR\b|\bFATAL\b|\bSEVERE\b|level=(ERROR|FATAL)"),
    "exception": re.compile(r"Traceback \(most recent call last\)|^Caused by: |^[\w.$]+(Exception|Error)\b(: |$)"),
    "warning": re.compile(r"\[warning\s*\]|\bWARN(ING)?\b|level=WARN"),
}


def log_offsets(stack: Stack) -> dict[str, int]:
    out = {}
    for f in stack.log_files():
        try:
            out[str(f)] = f.stat().st_size
        except OSError:
            pass
    return out


def scan_logs(stack: Stack, start: dict[str, int], end: dict[str, int] | None = None,
              max_examples: int = 12) -> dict:
    """Count error / exception / warning lines each component logged between two offsets."""
    out = {}
    for f in stack.log_files():
        a = start.get(str(f), 0)
        b = (end or {}).get(str(f))
        try:
            with open(f, "rb") as fh:
                fh.seek(a)
                data = fh.read((b - a) if b is not None else -1)
        except OSError:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        counts = {k: 0 for k in LOG_PATTERNS}
        examples: list[str] = []
        warnings: list[str] = []
        seen: set[str] = set()
        for line in lines:
            hit = warn = False
            for k, rx in LOG_PATTERNS.items():
                if rx.search(line):
                    counts[k] += 1
                    hit = hit or k != "warning"
                    warn = warn or k == "warning"
            bucket = examples if hit else warnings if warn else None
            if bucket is not None and len(bucket) < max_examples:
                key = re.sub(r"\d+", "#", line[line.find(" ") + 1:])[:100]
                if key not in seen:
                    seen.add(key)
                    bucket.append(line[:500])
        if any(counts.values()):
            out[f.name] = {"lines": len(lines), **counts, "examples": examples, "warning_examples": warnings[:6]}
    return out


# ----------------------------------------------------------------------------------------------
# One executor
# ----------------------------------------------------------------------------------------------
def measured_run(stack, roots, sampler, dag_id, meta, args, short, i, owned=None) -> dict:
    """One measured run; re-run (up to --retry-contended times) if another workload overlapped it."""
    attempts = []
    for attempt in range(1 + max(0, args.retry_contended)):
        if not wait_quiet(args.busy_wait):
            log("measuring anyway; the run will be flagged as contended")
        log(f"{short}: {dag_id} measured run {i + 1}/{args.repeat}" + (f" (retry {attempt})" if attempt else ""))
        r = run_dag(stack, roots, sampler, dag_id, meta, args.run_timeout, owned=owned)
        r["repeat"] = i + 1
        attempts.append(r)
        if not r.get("contended"):
            break
    # Keep an uncontended attempt if there is one, else the one with the least CPU used outside the stack.
    final = min(attempts, key=lambda r: (bool(r.get("contended")), dig(r, ("cpu", "cpu_outside_stack_s")) or 0))
    others = [r for r in attempts if r is not final]
    if others:
        final["discarded_contended_attempts"] = others
    return final


def airflow_settings(args) -> dict[str, str]:
    """The Airflow settings of every mode's stack: the same for all three, recorded in the JSON."""
    p = str(args.parallelism)
    return {
        "AIRFLOW__CORE__PARALLELISM": p,
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": p,
        "AIRFLOW__SCHEDULER__MAX_TIS_PER_QUERY": p,
        # Airflow 3.3.2's api-server checks a REST caller's token against revoked_token with a blocking
        # DB query on its event loop (apache/airflow#66493, fix pending in #73422). When its pool (5 + 10)
        # is checked out by Execution API requests, whose sessions the blocked loop never gets to close,
        # everything waits pool_timeout (30 s). Room for every AnyIO worker thread (40) plus the loop
        # keeps that from happening, under any executor.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "40",
        **args.extra_env,
    }


def bench_executor(short: str, args, dags_folder: Path, dags: dict) -> dict:
    executor = EXECUTORS[short]
    temporal = short in TEMPORAL_MODES
    p = str(args.parallelism)
    env = airflow_settings(args)
    stack = Stack(
        name=f"{args.stack_prefix}-{short.replace('Executor', '').lower()}", ports="free", executor=executor,
        dags_folder=dags_folder, extra_env=env,
        workers=[WorkerSpec(queues="default", identity="bench-worker",
                            extra_args=["--max-concurrent-tasks", p])],
    )
    result: dict = {"executor": executor, "mode": short, "state_dir": str(stack.state_dir), "runs": [], "warmup": []}
    if short == OWNED:
        result["trigger"] = ("Temporal: OwnedDagRun workflow started with the temporalio client "
                             "(as `airflow temporal trigger DAG_ID --run-id ID`); run_type 'external'")
    sampler = None
    roots = None
    owned = None
    up_offsets: dict[str, int] = {}
    t0 = time.monotonic()
    try:
        wait_quiet(args.busy_wait)
        log(f"{short}: starting stack {stack.name} ...")
        stack.start()
        result["stack_start_s"] = round(time.monotonic() - t0, 1)
        up_offsets = log_offsets(stack)
        roots = Roots(stack)
        for dag_id in [*args.dags, WARMUP_DAG]:
            stack.airflow.wait_for_dag(dag_id, timeout=300)
            stack.airflow.unpause(dag_id)
        log(f"{short}: DAGs parsed and unpaused")  # a paused DAG's owned run would be refused
        if temporal:
            result["worker_runner_mode"] = worker_runner_mode(stack)
        if short == OWNED:
            owned = OwnedTrigger(stack)
        sampler = Sampler(roots, temporal, args.sample_interval, args.pss_interval or None)
        sampler.start()
        if args.warmup == "small":
            result["warmup"].append(run_dag(stack, roots, sampler, WARMUP_DAG, dags[WARMUP_DAG],
                                            args.run_timeout, measure=False, owned=owned))
        for dag_id in args.dags:
            if args.warmup == "full":
                result["warmup"].append(run_dag(stack, roots, sampler, dag_id, dags[dag_id],
                                                args.run_timeout, measure=False, owned=owned))
            for i in range(args.repeat):
                result["runs"].append(measured_run(stack, roots, sampler, dag_id, dags[dag_id], args, short, i,
                                                   owned=owned))
    except Exception as exc:  # noqa: BLE001 - record and go on with the next executor
        log(f"{short}: ERROR {exc!r}")
        result["error"] = repr(exc)[:4000]
    finally:
        if sampler:
            sampler.stop_event.set()
            sampler.join(timeout=5)
        if owned:
            owned.stop()
        if roots:
            settle(roots, temporal)  # do not kill runners that are still exiting
        run_offsets = log_offsets(stack)
        stack.stop()
        result["log_findings_startup"] = scan_logs(stack, {}, up_offsets) if up_offsets else {}
        result["log_findings_during_runs"] = scan_logs(stack, up_offsets, run_offsets) if up_offsets else {}
        result["log_findings_shutdown"] = scan_logs(stack, run_offsets)
    return result


def machine_info() -> dict:
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        info["nproc_cmd"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
        info["free_g"] = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["java"] = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    except (OSError, IndexError):
        pass
    info["loadavg_at_start"] = Path("/proc/loadavg").read_text().split()[:3]
    return info


def git_info() -> dict:
    def g(*a):
        try:
            return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()
        except OSError:
            return None
    return {"head": g("rev-parse", "HEAD"), "dirty": bool(g("status", "--porcelain", "--untracked-files=no"))}


def jar_info() -> dict:
    """The worker JAR the Temporal stacks run (built from the working tree, which may differ from HEAD)."""
    import hashlib

    try:
        st = WORKER_JAR.stat()
        h = hashlib.sha256()
        with open(WORKER_JAR, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        return {"path": str(WORKER_JAR), "error": str(e)}
    return {"path": str(WORKER_JAR), "size": st.st_size, "sha256": h.hexdigest(),
            "built_at": datetime.fromtimestamp(st.st_mtime, timezone.utc).isoformat(timespec="seconds")}


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    # SIGTERM/SIGHUP (and SIGINT, which a background job may have ignored) stop the stacks cleanly.
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, _raise_keyboard_interrupt)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--executors", default=",".join(EXECUTORS),
                    help="comma-separated modes, from: " + ", ".join(EXECUTORS) + " (TemporalOwned: runs "
                         "started by Temporal on a TemporalExecutor stack, not by the scheduler)")
    ap.add_argument("--dags", default=None, help="comma-separated bench DAG ids (default: all)")
    ap.add_argument("--chain-length", type=int, default=40)
    ap.add_argument("--fan-out", type=int, default=200)
    ap.add_argument("--load-runs", type=int, default=10, help="DagRuns started at once by the load DAG")
    ap.add_argument("--load-width", type=int, default=100, help="parallel tasks in each load DagRun")
    ap.add_argument("--work-tasks", type=int, default=10,
                    help=f"tasks of the work chain, each working {WORK_SECONDS:g} s")
    ap.add_argument("--repeat", type=int, default=1, help="measured runs per DAG (table shows the median)")
    ap.add_argument("--warmup", choices=("none", "small", "full"), default="small",
                    help="small: one 3-task chain run before measuring; full: one unmeasured run of each DAG")
    ap.add_argument("--parallelism", type=int, default=32,
                    help="[core] parallelism = max_active_tasks_per_dag = max_tis_per_query = worker --max-concurrent-tasks")
    ap.add_argument("--run-timeout", type=float, default=900, help="per DagRun, seconds")
    ap.add_argument("--sample-interval", type=float, default=0.5)
    ap.add_argument("--pss-interval", type=float, default=5.0,
                    help="seconds between PSS samples (smaps_rollup is expensive); 0 disables PSS")
    ap.add_argument("--busy-wait", type=float, default=1200,
                    help="before each stack and each measured run, wait up to this long for a running "
                         "e2e suite / mvn build to finish")
    ap.add_argument("--if-busy", choices=("refuse", "run"), default="refuse",
                    help="when the machine is still busy after --busy-wait at the start: refuse (exit 2) or "
                         "run anyway (runs that overlap other workloads are flagged contended)")
    ap.add_argument("--retry-contended", type=int, default=1,
                    help="re-run a measurement during which an e2e suite / mvn build ran, up to this many times")
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for every stack component, worker and runner (repeatable), e.g. "
                         "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL=1 for an experiment; recorded in the JSON")
    ap.add_argument("--stack-prefix", default="bench",
                    help="stack names are PREFIX-temporal, PREFIX-temporalowned, PREFIX-local (state dirs under the cache)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results"))
    args = ap.parse_args(argv)
    for item in args.env:
        if "=" not in item or not item.split("=", 1)[0]:
            ap.error(f"--env wants KEY=VALUE, not {item!r}")
    args.extra_env = dict(item.split("=", 1) for item in args.env)
    names = [e.strip() for e in args.executors.split(",") if e.strip()]
    for n in names:
        if n not in EXECUTORS:
            ap.error(f"unknown executor {n}")
    dags_folder = AT_CACHE / "bench" / "dags"
    dags = write_dags(dags_folder, args.chain_length, args.fan_out, args.parallelism, args.load_runs,
                      args.load_width, args.work_tasks)
    all_dags = [d for d in dags if d != WARMUP_DAG]
    args.dags = [d.strip() for d in args.dags.split(",")] if args.dags else all_dags
    for d in args.dags:
        if d not in all_dags:
            ap.error(f"unknown DAG {d} (have {all_dags})")

    busy_at_start = not wait_quiet(args.busy_wait)
    if busy_at_start and args.if_busy == "refuse":
        log("refusing to measure on a machine shared with the e2e suite / mvn (--if-busy run to measure anyway)")
        return 2
    if busy_at_start:
        log("measuring anyway (--if-busy run)")

    started = datetime.now(timezone.utc)
    doc = {
        "started_at": started.isoformat(timespec="seconds"),
        "git": git_info(),
        "worker_jar": jar_info(),
        "machine": machine_info(),
        "settings": {
            "executors": names, "dags": args.dags, "repeat": args.repeat, "warmup": args.warmup,
            "parallelism": args.parallelism, "run_timeout_s": args.run_timeout,
            "sample_interval_s": args.sample_interval, "pss_interval_s": args.pss_interval or None,
            "busy_at_start": busy_at_start,
            "dags_folder": str(dags_folder),
            "airflow_env": airflow_settings(args),
            "worker_args": ["--max-concurrent-tasks", str(args.parallelism)],
        },
        "executors": {},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    for n in names:
        doc["executors"][n] = bench_executor(n, args, dags_folder, dags)
        path.write_text(json.dumps({**doc, "partial": True}, indent=2) + "\n")  # survives a later crash
    doc["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    doc["table"] = build_table(doc["executors"], dags, args.dags)
    doc["table_text"] = print_table(doc["table"], names)
    for n, r in doc["executors"].items():
        if r.get("error"):
            print(f"\n{n}: ERROR {r['error']}")
        for phase in ("startup", "during_runs", "shutdown"):
            bad = {f: v for f, v in r.get(f"log_findings_{phase}", {}).items() if v["error"] or v["exception"]}
            if bad:
                print(f"\n{n}: component log lines with errors/exceptions, {phase} (examples in the JSON):")
                for f, v in bad.items():
                    print(f"  {f}: error={v['error']} exception={v['exception']} warning={v['warning']}")
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nresults: {path}")
    ok = all(not r.get("error") and all(x["state"] == "success" for x in r["runs"])
             for r in doc["executors"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
