"""What a run of `e2e_faults_parallel` must end with, given the attempts a fault truly lost, and the
checks every scenario makes on what the runs recorded (Airflow's rules, written out)."""
from __future__ import annotations

from collections import Counter

from fault_watch import Attempt, Watch

DAG_ID = "e2e_faults_parallel"
RETRIES = {"steady": 0, "retrying": 1, "downstream": 0}  # as the DAG declares them
PARALLEL = ("steady", "retrying")
FINAL_TI_STATES = {"success", "failed", "upstream_failed", "skipped"}
DETECTION_LIMIT = 60.0  # s: a lost attempt is noticed within this (issue 11)


def expected_outcome(lost: Counter) -> tuple[str, dict[str, tuple[str, int]]]:
    """(run state, {task: (state, try_number)}) by Airflow's rules when `lost[task]` attempts of each task
    were truly lost: each lost attempt uses one try; a task with tries left succeeds at its next try,
    one without fails at its last; `downstream` (all_success) runs only if both upstreams succeeded."""
    tis = {}
    for task in PARALLEL:
        tis[task] = ("success", 1 + lost[task]) if lost[task] <= RETRIES[task] else ("failed", 1 + RETRIES[task])
    if all(tis[t][0] == "success" for t in PARALLEL):
        tis["downstream"] = ("success", 1) if not lost["downstream"] else ("failed", 1)
    else:
        tis["downstream"] = ("upstream_failed", 0)
    state = "success" if all(s == "success" for s, _ in tis.values()) else "failed"
    return state, tis


def overlaps(attempts: list[Attempt], now: float) -> list[str]:
    """Two attempts of one task instance whose lifetimes intersect. A lost attempt lived until its
    process was first seen gone (or still lives: until now)."""
    out = []
    by_ti: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_ti.setdefault(a.task_id, []).append(a)
    for task_id, tries in by_ti.items():
        tries.sort(key=lambda a: a.start)
        for earlier, later in zip(tries, tries[1:]):
            ended = earlier.died_at if earlier.died_at is not None else now
            if later.start < ended:
                out.append(f"{task_id}: try {later.try_number} (pid {later.pid}) started {ended - later.start:.1f}s "
                           f"before try {earlier.try_number} (pid {earlier.pid}) ended")
        doubled = [n for n, c in Counter(a.try_number for a in tries).items() if c > 1]
        if doubled:
            out.append(f"{task_id}: try {doubled} ran more than once")
    return out


def detection(watch: Watch, attempt: Attempt, fault_at: float) -> tuple[float | None, str | None]:
    """(seconds from the loss to Airflow's decision on the attempt, a problem or None). The loss is the
    later of the fault and the runner's death; a runner still alive when its attempt was decided was not
    lost but abandoned, which is a problem of its own."""
    decided = watch.decided_at(attempt)
    died = attempt.died_at
    where = f"{attempt.task_id} try {attempt.try_number} (pid {attempt.pid})"
    if decided is None:
        return None, f"{where}: lost, and Airflow never ended its try"
    if died is None or died > decided:
        outlived = "is still alive" if died is None else f"lived {died - decided:.1f}s longer"
        return decided - fault_at, f"{where}: decided at fault+{decided - fault_at:.1f}s but its runner {outlived}"
    seconds = decided - max(fault_at, died)
    if seconds > DETECTION_LIMIT:
        return seconds, f"{where}: its loss was noticed after {seconds:.1f}s (limit {DETECTION_LIMIT:.0f}s)"
    return seconds, None


def check_run(mode: str, run: dict, tis: dict[str, tuple[str | None, int]], attempts: list[Attempt],
              watch: Watch, fault_at: float, now: float, allow_loss: bool) -> tuple[dict, list[str]]:
    """Every check of one run; returns (its summary row, its problems)."""
    problems = []
    lost = [a for a in attempts if a.lost]
    if lost and not allow_loss:
        names = ", ".join(f"{a.task_id} try {a.try_number}" for a in lost)
        problems.append(f"attempts lost where none may be: {names}")
    exp_state, exp_tis = expected_outcome(Counter(a.task_id for a in lost))
    if run["state"] != exp_state or tis != exp_tis:
        problems.append(f"ended {run['state']} {_fmt_tis(tis)}; expected {exp_state} {_fmt_tis(exp_tis)} "
                        f"({len(lost)} attempts lost)")
    unfinished = {t: s for t, (s, _) in tis.items() if s not in FINAL_TI_STATES}
    if unfinished:
        problems.append(f"task instances not in a final state: {unfinished}")
    overlap = overlaps(attempts, now)
    problems += [f"overlap: {o}" for o in overlap]
    detections = []
    for a in lost:
        seconds, problem = detection(watch, a, fault_at)
        detections.append(f"{a.task_id}#{a.try_number} " + ("never" if seconds is None else f"{seconds:.1f}s"))
        if problem:
            problems.append(problem)
    row = {"mode": mode, "run": run["state"], "tis": _fmt_tis(tis), "lost": len(lost),
           "overlap": "yes" if overlap else "none", "detection": ", ".join(detections) or "n/a"}
    return row, problems


def _fmt_tis(tis: dict[str, tuple[str | None, int]]) -> str:
    return " ".join(f"{t}={s}/{n}" for t, (s, n) in sorted(tis.items()))
