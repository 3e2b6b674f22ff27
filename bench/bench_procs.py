"""The executor side's processes from /proc: memory groups, CPU per component tree, peaks sampled
during a run, and whether other workloads (e2e suite, mvn) share the machine."""
from __future__ import annotations

import os
import re
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

from airflow_temporal_testing.stack import Stack

PAGE = os.sysconf("SC_PAGE_SIZE")
HZ = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)

# ----------------------------------------------------------------------------------------------
# /proc sampling
# ----------------------------------------------------------------------------------------------
def read_procs() -> dict[int, tuple[int, int, int, int, str]]:
    """pid -> (ppid, own cpu ticks, reaped-children cpu ticks, rss bytes, state letter)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = s[s.rfind(")") + 2:].split()
        try:
            out[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]),
                           int(fields[13]) + int(fields[14]), int(fields[21]) * PAGE, fields[0])
        except (IndexError, ValueError):
            continue
    return out


def children_map(procs: dict) -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for pid, info in procs.items():
        children.setdefault(info[0], []).append(pid)
    return children


def descendants(procs: dict, root: int, children: dict | None = None) -> dict[int, int]:
    """pid -> depth below root (root itself at 0); empty if root is gone."""
    if root not in procs:
        return {}
    if children is None:
        children = children_map(procs)
    out = {root: 0}
    todo = [root]
    while todo:
        p = todo.pop()
        for c in children.get(p, ()):
            if c not in out:
                out[c] = out[p] + 1
                todo.append(c)
    return out


def pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def system_cpu_busy_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    total = sum(parts[:8])
    idle = parts[3] + parts[4]
    return total - idle, total


class Roots:
    """The stack's processes, by role."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.by_name = {p.name: p.popen.pid for p in stack.procs}

    def pid(self, name: str) -> int | None:
        return self.by_name.get(name)

    def workers(self) -> list[int]:
        return [pid for name, pid in self.by_name.items() if name.startswith("worker-")]

    def postmaster(self) -> int | None:
        try:
            return int((self.stack.pg_data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def trees(self) -> dict[str, list[int]]:
        """component -> root pids, for CPU accounting."""
        t = {
            "scheduler": [self.pid("airflow-scheduler")],
            "worker_jvm": self.workers(),
            "api_server": [self.pid("airflow-api-server")],
            "dag_processor": [self.pid("airflow-dag-processor")],
            "triggerer": [self.pid("airflow-triggerer")],
            "temporal_server": [self.pid("temporal")],
            "postgres": [self.postmaster()],
        }
        return {k: [p for p in v if p] for k, v in t.items()}


def classify(procs: dict, roots: Roots, temporal: bool) -> dict[str, set[int]]:
    """Memory groups of the executor side.

    Temporal: scheduler = scheduler process tree; executor = worker JVM(s); tasks = everything the
    JVM spawned (the execute_workload supervisor and the task process it forks).
    Local: scheduler = the scheduler process; executor = its direct children (LocalExecutor workers,
    which also act as task supervisors, and the log server); tasks = deeper descendants (the forked
    task processes)."""
    groups = {"scheduler": set(), "executor": set(), "tasks": set()}
    children = children_map(procs)
    sched = roots.pid("airflow-scheduler")
    if temporal:
        if sched:
            groups["scheduler"].update(descendants(procs, sched, children))
        for w in roots.workers():
            for pid, depth in descendants(procs, w, children).items():
                groups["executor" if depth == 0 else "tasks"].add(pid)
    elif sched:
        for pid, depth in descendants(procs, sched, children).items():
            groups["scheduler" if depth == 0 else "executor" if depth == 1 else "tasks"].add(pid)
    return groups


class Sampler(threading.Thread):
    """Samples RSS (and PSS) of the executor side and of the whole stack every `interval` s and
    keeps the peaks since the last reset()."""

    def __init__(self, roots: Roots, temporal: bool, interval: float, pss_interval: float | None):
        super().__init__(daemon=True, name="bench-sampler")
        self.roots, self.temporal, self.interval = roots, temporal, interval
        # PSS needs /proc/<pid>/smaps_rollup: 2-6 ms per Python/JVM process, too dear for every
        # 0.5 s tick on 2 cores with ~100 processes, so it is sampled less often.
        self.pss_interval = pss_interval
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.peaks: dict[str, float] = {}
            self.samples = 0
            self.pss_samples = 0
            self.sample_cost: list[float] = []
            self.last_pss = 0.0
            self.last_foreign = 0.0
            self.foreign: set[str] = set()

    def snapshot(self) -> dict:
        with self.lock:
            out = {k: round(v / 2**20, 1) if k.endswith("_bytes") else v for k, v in self.peaks.items()}
            out = {k.replace("_bytes", "_mb"): v for k, v in out.items()}
            out["samples"] = self.samples
            out["pss_samples"] = self.pss_samples
            out["foreign_e2e_processes_seen"] = sorted(self.foreign)
            out["mean_sample_cost_ms"] = round(1000 * statistics.mean(self.sample_cost), 1) if self.sample_cost else None
            return out

    def _peak(self, key: str, value: float) -> None:
        if value > self.peaks.get(key, -1):
            self.peaks[key] = value

    def sample_once(self) -> None:
        t0 = time.perf_counter()
        procs = read_procs()
        groups = classify(procs, self.roots, self.temporal)
        stack_pids: set[int] = set()
        children = children_map(procs)
        for roots in self.roots.trees().values():
            for r in roots:
                stack_pids.update(descendants(procs, r, children))
        executor_side = groups["scheduler"] | groups["executor"] | groups["tasks"]
        pss_cache: dict[int, int] = {}

        def pss(pid: int) -> int:
            if pid not in pss_cache:
                pss_cache[pid] = pss_bytes(pid)
            return pss_cache[pid]

        vals = {
            "rss_executor_total_bytes": sum(procs[p][3] for p in executor_side if p in procs),
            "rss_executor_excl_tasks_bytes": sum(procs[p][3] for p in groups["scheduler"] | groups["executor"]
                                                 if p in procs),
            "rss_scheduler_bytes": sum(procs[p][3] for p in groups["scheduler"] if p in procs),
            "rss_executor_procs_bytes": sum(procs[p][3] for p in groups["executor"] if p in procs),
            "rss_task_procs_bytes": sum(procs[p][3] for p in groups["tasks"] if p in procs),
            "rss_whole_stack_bytes": sum(procs[p][3] for p in stack_pids if p in procs),
            "task_procs_count": len(groups["tasks"]),
            "executor_side_procs_count": len(executor_side),
        }
        do_pss = self.pss_interval is not None and time.monotonic() - self.last_pss >= self.pss_interval
        foreign = []
        if time.monotonic() - self.last_foreign >= 5:
            self.last_foreign = time.monotonic()
            foreign = busy_processes()  # an e2e suite started mid-run would skew this run
        if do_pss:
            self.last_pss = time.monotonic()
            vals.update({
                "pss_executor_total_bytes": sum(pss(p) for p in executor_side),
                "pss_executor_excl_tasks_bytes": sum(pss(p) for p in groups["scheduler"] | groups["executor"]),
                "pss_task_procs_bytes": sum(pss(p) for p in groups["tasks"]),
                "pss_whole_stack_bytes": sum(pss(p) for p in stack_pids | executor_side),
            })
        with self.lock:
            for k, v in vals.items():
                self._peak(k, v)
            self.samples += 1
            self.pss_samples += int(do_pss)
            self.foreign.update(foreign)
            self.sample_cost.append(time.perf_counter() - t0)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.sample_once()
            except Exception as exc:  # noqa: BLE001 - a sampler must not kill the benchmark
                log(f"sampler error: {exc!r}")
            self.stop_event.wait(self.interval)


STACK_COMPONENTS = ("scheduler", "worker_jvm", "api_server", "dag_processor", "triggerer", "temporal_server",
                    "postgres")


def cpu_snapshot(roots: Roots) -> dict:
    procs = read_procs()
    children = children_map(procs)
    out = {}
    for name, rs in roots.trees().items():
        members: set[int] = set()
        for r in rs:
            members.update(descendants(procs, r, children))
        out[name] = sum(procs[p][1] + procs[p][2] for p in members if p in procs)
    out.update(worker_split(procs, children, roots.workers()))
    busy, total = system_cpu_busy_ticks()
    out["_system_busy"] = busy
    out["_system_total"] = total
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["_bench_self_s"] = ru.ru_utime + ru.ru_stime
    return out


def worker_split(procs: dict, children: dict, workers: list[int]) -> dict:
    """The worker JVM tree's CPU ticks by part: the JVM process itself, the runner server process
    itself, and the runners it forked with their task processes (reaped ones through the server's
    children ticks, running ones as they are now). Parts not in the tree count 0."""
    jvm = server = runners = 0
    for w in workers:
        if w not in procs:
            continue
        jvm += procs[w][1]
        for child in children.get(w, ()):
            server += procs[child][1]
            runners += procs[child][2] + sum(procs[p][1] + procs[p][2]
                                             for p in descendants(procs, child, children) if p != child)
    return {"worker_jvm_process": jvm, "runner_server_process": server, "runners_and_tasks": runners}


def cpu_delta(a: dict, b: dict) -> dict:
    out = {f"cpu_{k}_s": round((b[k] - a[k]) / HZ, 1) for k in a if not k.startswith("_") and k in b}
    out["cpu_whole_machine_busy_s"] = round((b["_system_busy"] - a["_system_busy"]) / HZ, 1)
    out["cpu_whole_machine_capacity_s"] = round((b["_system_total"] - a["_system_total"]) / HZ, 1)
    out["cpu_bench_process_s"] = round(b["_bench_self_s"] - a["_bench_self_s"], 1)
    stack = sum(v for k, v in out.items() if k.startswith("cpu_") and k[4:-2] in STACK_COMPONENTS)
    # CPU the stack, this process and its sampler do not explain: other load on the machine.
    out["cpu_outside_stack_s"] = round(out["cpu_whole_machine_busy_s"] - stack - out["cpu_bench_process_s"], 1)
    return out


# Process titles of an attempt at work: Airflow's supervisor ("airflow supervisor: ...") and the task
# process it forks ("airflow worker -- <TI id>"). Idle pooled runners, the runner server, the token
# minter, the log server and LocalExecutor's idle workers ("airflow worker -- LocalExecutor...") are
# not: they stay between runs.
BUSY_TITLE = re.compile(rb"^airflow (supervisor: |worker -- [0-9a-f]{8}-)")


def settle(roots: Roots, temporal: bool, timeout: float = 60) -> None:
    """Wait until no attempt is left at work from a previous run (so the next one starts clean)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(BUSY_TITLE.match(_cmdline(pid)) for pid in classify(read_procs(), roots, temporal)["tasks"]):
            break
        time.sleep(0.5)
    time.sleep(3)


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


# ----------------------------------------------------------------------------------------------
# Environment checks
# ----------------------------------------------------------------------------------------------
BUSY_PATTERNS = re.compile(
    r"pytest.*tests/e2e"                       # the e2e suite (its own stack)
    r"|org\.codehaus\.plexus\.classworlds"     # mvn (scripts/test runs `mvn -B verify` first)
    r"|surefirebooter"                         # mvn's test JVMs
    r"|scripts/stack\.py up"                   # a demo stack
)


def busy_processes() -> list[str]:
    """Other workloads that would skew timings on this small machine (e2e suite, mvn, a demo stack)."""
    me = os.getpid()
    hits = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in (me, os.getppid()):
            continue
        try:
            cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if BUSY_PATTERNS.search(cmd):
            hits.append(f"{d}: {cmd.strip()[:200]}")
    return hits


def wait_quiet(max_wait: float) -> bool:
    """Wait (up to max_wait s) until no other heavy workload (busy_processes) runs. True if quiet."""
    deadline = time.monotonic() + max_wait
    said = False
    while busy := busy_processes():
        if time.monotonic() > deadline:
            log("still busy after waiting:\n  " + "\n  ".join(busy))
            return False
        if not said:
            log(f"waiting for other workloads to finish before measuring: {busy[0][:150]}")
            said = True
        time.sleep(10)
    return True
