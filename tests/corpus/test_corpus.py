"""The fidelity corpus (issue 8, "Proof"): every example DAG shipped in apache-airflow and
apache-airflow-providers-standard that needs no network and no extra package, plus our own
examples/dags/e2e_diff_*.py, each run once in three modes on one real stack, all runs at once:

- **LocalExecutor**, the reference: Airflow's own executor, in the same scheduler as the TemporalExecutor.
  The stack sets `[core] executor = airflow_temporal.executors.temporal_executor.TemporalExecutor,LocalExecutor` (Airflow 3's
  multiple executors; the first is the default) and installs airflow_local_settings.py, whose
  `task_instance_mutation_hook` sets `ti.executor = "LocalExecutor"` on the TIs of runs whose id starts with
  `corpus_local__`. Airflow applies the hook wherever a TI is created or refreshed from its task (run
  creation, mapped expansion, retries), right after copying `task.executor`, and the scheduler queues each TI
  on the executor `ti.executor` names (SchedulerJobRunner._try_to_load_executor). So one DAG file, unedited,
  runs on the LocalExecutor for one run and on the TemporalExecutor for another, under one scheduler, one
  DB, one api-server: no second stack, and no difference between the modes but the executor.
- **executor mode**: a manual run on the default executor, the TemporalExecutor;
- **Temporal-owned**: `airflow temporal trigger DAG_ID --run-id ... --logical-date ...`.

For each DAG, the executor-mode and the owned run must end as the LocalExecutor run did, as the REST API
shows them: the DagRun's state, each TI's state and try number, and every XCom (return values and pushed
keys). A difference is accepted only when corpus.ALLOWED_DIFFERENCES names it (Airflow leaves it
nondeterministic), when a run's dagrun_timeout explains it (corpus_runs.timeout_explained: whether a run
passes its timeout depends on the load), or corpus.KNOWN_GAPS lists the DAG and mode as a known gap of ours (issue 8); a known gap
that no longer shows fails the test, so that its entry is deleted. The runs' logical dates are a second
apart (the DB allows one run per logical date), all on one day.
"""
from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from pydantic import TypeAdapter

from airflow_local_settings import LOCAL_EXECUTOR
from corpus import (
    EXAMPLE_BUNDLES,
    EXAMPLE_DAGS,
    EXCLUDED,
    KNOWN_GAPS,
    MODE_NAMES,
    OWN_DAGS,
    allowed_difference,
    corpus_dags,
    known_gap,
    package_of,
)
from corpus_runs import (
    MODES,
    REFERENCE_MODE,
    ModeRun,
    Verdict,
    differences,
    read_outcomes,
    timeout_explained,
    trigger_all,
    wait_all,
)

# AT_CORPUS_DAGS=dag_a,dag_b runs only those DAGs of the corpus (to try a few quickly); CI runs them all.
CORPUS = [d for d in corpus_dags() if d in os.environ.get("AT_CORPUS_DAGS", d).split(",")]
# Every run of the corpus at once should end well within this on 2 loaded cores; a run that has not is
# compared as it stands (a hung mode shows as its unfinished state).
CORPUS_TIMEOUT = 20 * 60
DIFF_POOL = "e2e_diff_pool"


def dagrun_timeout(airflow, dag_id: str) -> timedelta | None:
    """The DAG's dagrun_timeout as the REST API shows it (an ISO 8601 duration)."""
    value = airflow.get(f"/dags/{airflow.q(dag_id)}/details").get("dag_run_timeout")
    return None if value is None else TypeAdapter(timedelta).validate_python(value)


def _ensure_pool(airflow, name: str, slots: int) -> None:
    r = airflow.request("POST", "/pools", json={"name": name, "slots": slots}, expect=(201, 200, 409))
    if r.status_code == 409:
        airflow.request("PATCH", f"/pools/{airflow.q(name)}", json={"name": name, "slots": slots})


def verdict(dag_id: str, mode: str, reference: ModeRun, run: ModeRun, dagrun_timeout: timedelta | None) -> Verdict:
    if mode == REFERENCE_MODE:
        return Verdict(dag_id, mode, "reference")
    diffs = differences(reference, run)
    by_timeout = timeout_explained(reference, run, dagrun_timeout)
    allowed = [d for d in diffs if allowed_difference(dag_id, d.task_id, d.what) or d in by_timeout]
    real = [d for d in diffs if d not in allowed]
    gap = known_gap(dag_id, mode)
    if gap:
        status = "known-gap" if real else "GAP CLOSED"
        note = gap.reason if real else f"known gap no longer shows: delete its KNOWN_GAPS entry ({gap.reason})"
    elif real:
        status, note = "DIFFERENT", ""
    else:
        status, note = ("allowed-difference" if allowed else "identical"), ""
    return Verdict(dag_id, mode, status, real, allowed, note)


def _table(runs: dict, verdicts: dict, wall: float) -> list[str]:
    lines = ["| DAG | package | mode | run state | #TIs | verdict |", "|---|---|---|---|---|---|"]
    for dag_id in CORPUS:
        for mode in MODES:
            run, v = runs[(dag_id, mode)], verdicts[(dag_id, mode)]
            n = len(run.outcome.tis) if run.outcome else 0
            lines.append(f"| {dag_id} | {package_of(dag_id)} | {MODE_NAMES[mode]} | {run.state} | {n} | {v.status} |")
    packages = Counter(package_of(d) for d in CORPUS)
    lines.append("")
    lines.append(f"corpus: {len(CORPUS)} DAGs ({', '.join(f'{p} {n}' for p, n in packages.items())}), "
                 f"{len(EXCLUDED)} excluded; {len(CORPUS) * len(MODES)} runs, all at once, in {wall:.0f} s")
    for mode in MODES:
        counts = Counter(verdicts[(d, mode)].status for d in CORPUS)
        lines.append(f"{MODE_NAMES[mode]}: {len(CORPUS)} DAGs, " + ", ".join(f"{s} {n}" for s, n in sorted(counts.items())))
    lines.append("")
    for (dag_id, mode), v in verdicts.items():
        if v.status not in ("reference", "identical"):
            lines.append(f"{v.status}: {dag_id} / {MODE_NAMES[mode]}" + (f" ({v.note})" if v.note else ""))
            for d in v.differences[:6] + v.allowed[:3]:
                lines.append(f"    {'allowed ' if d in v.allowed else ''}{d}")
            if runs[(dag_id, mode)].trigger_error:
                lines.append(f"    trigger: {runs[(dag_id, mode)].trigger_error[-300:]}")
    return lines


@pytest.fixture(scope="module")
def corpus_results(stack, report):
    airflow = stack.airflow
    # One deadline for all: the dag-processor parses the ~130 files once, in its own order, slowly on a loaded host.
    parsed_by = time.monotonic() + 15 * 60
    for dag_id in CORPUS:
        airflow.wait_for_dag(dag_id, timeout=max(parsed_by - time.monotonic(), 30))
        airflow.unpause(dag_id)
    _ensure_pool(airflow, DIFF_POOL, 1)
    suffix = uuid.uuid4().hex[:8]
    t0 = time.monotonic()
    runs = trigger_all(stack, CORPUS, suffix)
    unfinished = wait_all(airflow, runs, suffix, CORPUS_TIMEOUT)
    read_outcomes(airflow, runs)
    wall = time.monotonic() - t0
    timeouts = {d: dagrun_timeout(airflow, d) for d in CORPUS}
    verdicts = {(d, m): verdict(d, m, runs[(d, REFERENCE_MODE)], runs[(d, m)], timeouts[d]) for d in CORPUS
                for m in MODES}
    report.extend(_table(runs, verdicts, wall))
    if unfinished:
        report.append(f"unfinished after {CORPUS_TIMEOUT} s: {[(r.dag_id, r.mode) for r in unfinished]}")
    return runs, verdicts


def test_every_example_dag_of_the_corpus_packages_is_run_or_excluded_with_a_reason(stack, corpus_results):
    airflow = stack.airflow
    shipped: dict[str, set[str]] = {}
    offset = 0
    while True:
        page = airflow.get("/dags", params={"limit": 100, "offset": offset})
        for d in page["dags"]:
            if d["bundle_name"] in EXAMPLE_BUNDLES:
                shipped.setdefault(EXAMPLE_BUNDLES[d["bundle_name"]], set()).add(d["dag_id"])
        offset += len(page["dags"])
        if not page["dags"] or offset >= page["total_entries"]:
            break
    for package, listed in EXAMPLE_DAGS.items():
        unlisted = shipped.get(package, set()) - set(listed)
        assert not unlisted, f"{package} ships example DAGs the corpus does not list: {sorted(unlisted)}"
        # A listed DAG Airflow does not show must be one excluded because its file defines no DAG here.
        missing = set(listed) - shipped.get(package, set()) - set(EXCLUDED)
        assert not missing, f"listed example DAGs of {package} that Airflow does not show: {sorted(missing)}"
    assert not set(OWN_DAGS) & set(EXCLUDED)
    assert all(g.dag_id in corpus_dags() and g.mode in MODES and g.mode != REFERENCE_MODE for g in KNOWN_GAPS), KNOWN_GAPS


@pytest.mark.parametrize("dag_id", CORPUS)
def test_executor_mode_and_owned_mode_end_as_the_local_executor_run(corpus_results, dag_id):
    runs, verdicts = corpus_results
    reference = runs[(dag_id, REFERENCE_MODE)]
    # A trigger Airflow refuses (e.g. a required param without a value) must be refused in every mode.
    if reference.outcome:
        assert reference.outcome.state in ("success", "failed"), (
            f"the LocalExecutor run of {dag_id} did not end: {reference.outcome.state} {reference.outcome.tis}")
        # The cluster policy routed the LocalExecutor run, and only it, to the LocalExecutor.
        assert {ti["executor"] for ti in reference.outcome.ti_rows} == {LOCAL_EXECUTOR}, reference.outcome.ti_rows
    executor_run = runs[(dag_id, "executor")]
    if executor_run.outcome:
        assert {ti["executor"] for ti in executor_run.outcome.ti_rows} == {None}, executor_run.outcome.ti_rows
    problems = []
    for mode in MODES:
        v = verdicts[(dag_id, mode)]
        if v.status in ("DIFFERENT", "GAP CLOSED"):
            problems.append(f"{MODE_NAMES[mode]} run {runs[(dag_id, mode)].run_id}: {v.status} {v.note}\n"
                            + "\n".join(f"  {d}" for d in v.differences)
                            + (f"\n  trigger: {runs[(dag_id, mode)].trigger_error}" if runs[(dag_id, mode)].trigger_error else ""))
    assert not problems, f"{dag_id}:\n" + "\n".join(problems)
