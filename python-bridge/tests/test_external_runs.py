"""run_type='external' support (airflow_temporal.external_runs) against the REAL Airflow 3.3 of this venv.

Every check runs in fresh interpreters of an *overlay* environment that loads the hook exactly the way a
real `pip install airflow-temporal` does: we build the wheel, install it with pip into the overlay's own
site-packages (so `site` processes the shipped airflow_temporal_external_runs.pth at start-up), and reach
Airflow and the rest through a plain path line to this venv's site-packages (so this venv's editable
install, and anybody else using it, is untouched).

The DB tests start PostgreSQL migrated by the real `airflow db migrate` (scripts/stack.py),
then the real api-server and scheduler. Skip them with AIRFLOW_TEMPORAL_SKIP_DB_TESTS=1.

The same hook leaves DAGs opted in to Temporal Schedules out of the scheduler's timetable runs when
`[temporal] schedules` is on (the stack below runs with AIRFLOW__TEMPORAL__SCHEDULES=True).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from airflow_temporal import external_runs

BRIDGE = Path(__file__).resolve().parents[1]

DAG_ID = "external_runs_probe"
DAG_FILE = f'''
import datetime
from airflow.sdk import DAG, task

with DAG("{DAG_ID}", schedule=None, start_date=datetime.datetime(2026, 1, 1), catchup=False):
    @task
    def first():
        print("first ran")
        return 1

    @task
    def second(x):
        print("second ran", x)

    second(first())
'''

# Temporal Schedules opt-in: two DAGs due every minute (one tagged `temporal`), and an opted-in asset-triggered DAG.
SCHED_TAGGED, SCHED_PLAIN, SCHED_ASSET = "temporal_sched_tagged", "temporal_sched_plain", "temporal_sched_asset"
SCHED_DAG_IDS = (SCHED_ASSET, SCHED_PLAIN, SCHED_TAGGED)
SCHED_ASSET_NAME = "temporal_sched_probe_asset"
SCHED_DAG_FILE = '''
import datetime
from airflow.sdk import DAG, Asset
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("{dag_id}", schedule={schedule}, start_date=datetime.datetime(2025, 1, 1), catchup=False, tags={tags}):
    EmptyOperator(task_id="noop")
'''
SCHED_DAGS = {
    SCHED_TAGGED: dict(schedule=repr("* * * * *"), tags=["temporal", "other"]),
    SCHED_PLAIN: dict(schedule=repr("* * * * *"), tags=["other"]),
    SCHED_ASSET: dict(schedule=f"[Asset({SCHED_ASSET_NAME!r})]", tags=["temporal"]),
}


# ------------------------------------------------------------------------------------------- overlay env
class Overlay:
    def __init__(self, root: Path):
        self.root = root
        self.python = root / "bin" / "python"
        self.site = Path(subprocess.check_output(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True,
            env={**os.environ, "PYTHONNOUSERSITE": "1"}).strip())

    def run(self, code: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **(env or {})}
        full_env.pop("PYTHONPATH", None)
        return subprocess.run([str(self.python), "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              env=full_env, timeout=timeout, cwd=str(self.root))

    def json(self, code: str, env: dict | None = None, timeout: float = 180) -> dict:
        p = self.run(code, env, timeout)
        assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr[-6000:]}"
        # Airflow routes stdlib logging to stdout once configured, to stderr (lastResort) before that.
        return {**json.loads(p.stdout.strip().splitlines()[-1]), "_output": p.stdout + p.stderr}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(BRIDGE)],
                   check=True, timeout=600)
    for leftover in ("build",):  # setuptools' build dir inside the source tree
        subprocess.run(["rm", "-rf", str(BRIDGE / leftover)], check=False)
    (whl,) = out.glob("airflow_temporal-*.whl")
    return whl


@pytest.fixture(scope="session")
def overlay(tmp_path_factory, wheel) -> Overlay:
    root = tmp_path_factory.mktemp("overlay")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(root)], check=True)
    ov = Overlay(root)
    # A path line (not `import site; addsitedir`): Airflow & co. become importable, this venv's .pth files
    # (its editable airflow_temporal finder) are not run, so airflow_temporal comes from the wheel only.
    (ov.site / "00_base_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                    str(ov.site), str(wheel)], check=True, timeout=300)
    assert (ov.site / external_runs.PTH_NAME).read_text() == external_runs.PTH_LINE
    airflow = root / "bin" / "airflow"
    airflow.write_text(f"#!{ov.python}\nimport sys\nfrom airflow.__main__ import main\nsys.exit(main())\n")
    airflow.chmod(0o755)
    return ov


# ------------------------------------------------------------------------------------ packaging, no Airflow
def test_setup_py_writes_the_pth_line_the_module_documents():
    text = (BRIDGE / "setup.py").read_text()
    m = re.search(r'^PTH_LINE = "(.*)"$', text, re.M)
    assert m and m.group(1).replace("\\n", "\n") == external_runs.PTH_LINE


def test_wheel_ships_the_pth_at_the_top_of_site_packages(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert external_runs.PTH_NAME in names
        assert z.read(external_runs.PTH_NAME).decode() == external_runs.PTH_LINE
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        assert external_runs.PTH_NAME in z.read(record).decode()  # so pip uninstall removes it


def test_the_cli_runs_warning_free_beside_the_pth_that_imported_the_hook(overlay, tmp_path):
    """bootstrap runs this command in an environment whose .pth has already imported the hook: running the hook
    module itself with -m printed runpy's 'found in sys.modules' RuntimeWarning before every bootstrap."""
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("PYTHONPATH", None)
    p = subprocess.run([str(overlay.python), "-m", "airflow_temporal.external_runs", "install-pth", "--dir",
                        str(tmp_path)], capture_output=True, text=True, env=env, timeout=120, cwd=str(overlay.root))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert (tmp_path / external_runs.PTH_NAME).read_text() == external_runs.PTH_LINE


# ----------------------------------------------------------------------- fresh interpreters, real Airflow
PROBE = r'''
import datetime, json, sys, warnings
warnings.simplefilter("ignore")
result = {"hook_first_on_meta_path": type(sys.meta_path[0]).__name__ == "_PostImportFinder",
          "airflow_imported_at_startup": "airflow" in sys.modules}
import airflow
from airflow.utils.types import DagRunType

def check(name, fn):
    try:
        result[name] = fn()
    except Exception as exc:
        result[name] = "ERR " + type(exc).__name__ + ": " + str(exc)[:400]

check("enum", lambda: [str(DagRunType("external")), DagRunType.EXTERNAL.value, DagRunType["EXTERNAL"].value,
                       DagRunType.from_run_id("external__x").value, "external" in [t.value for t in DagRunType]])
from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse
check("public_api_model", lambda: DAGRunResponse.model_validate({
    "dag_run_id": "r1", "dag_id": "d", "logical_date": None, "queued_at": None, "start_date": None,
    "end_date": None, "duration": None, "data_interval_start": None, "data_interval_end": None,
    "run_after": "2026-01-01T00:00:00Z", "last_scheduling_decision": None, "run_type": "external",
    "state": "running", "triggered_by": None, "triggering_user_name": None, "conf": {}, "note": None,
    "dag_versions": [], "bundle_version": None, "dag_display_name": "d", "partition_key": None,
    "partition_date": None,
}).model_dump(mode="json")["run_type"])
check("public_api_schema_lists_external",
      lambda: "external" in json.dumps(DAGRunResponse.model_json_schema()))
from airflow.api_fastapi.execution_api.datamodels.taskinstance import DagRun as ExecDagRun
from airflow.sdk.api.datamodels._generated import DagRun as SdkDagRun, DagRunType as SdkDagRunType
payload = {"dag_id": "d", "run_id": "r1", "logical_date": None, "data_interval_start": None,
           "data_interval_end": None, "run_after": "2026-01-01T00:00:00Z", "start_date": "2026-01-01T00:00:00Z",
           "end_date": None, "run_type": "external", "state": "running", "consumed_asset_events": [],
           "partition_key": None}
check("execution_api_model", lambda: ExecDagRun.model_validate(payload).model_dump(mode="json")["run_type"])
check("task_sdk_model", lambda: SdkDagRun.model_validate_json(json.dumps(payload)).run_type.value)
check("task_sdk_enum", lambda: SdkDagRunType("external").value)
from airflow.models.dagrun import DagRun
check("generate_run_id", lambda: DagRun.generate_run_id(
    run_type="external", logical_date=None, run_after=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)))
check("scheduler_queries_wrapped", lambda: [
    getattr(getattr(DagRun, n), "__qualname__", "").endswith("make.<locals>.scheduler_query") or
    getattr(getattr(DagRun, n), "__module__", "") == "airflow_temporal.external_runs"
    for n in ("get_running_dag_runs_to_examine", "get_queued_dag_runs_to_set_running")])
from airflow.models.dag import DagModel
check("dag_query_wrapped",
      lambda: getattr(DagModel.dags_needing_dagruns, "__module__", "") == "airflow_temporal.external_runs")
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
check("queueing_query_wrapped", lambda: getattr(SchedulerJobRunner._executable_task_instances_to_queued,
                                                "__module__", "") == "airflow_temporal.external_runs")
import airflow_temporal.external_runs as x
result["state"] = dict(x.STATE)
result["module_file"] = x.__file__
print(json.dumps(result))
'''


def test_fresh_interpreter_accepts_external_everywhere(overlay):
    r = overlay.json(PROBE)
    assert r["hook_first_on_meta_path"] and not r["airflow_imported_at_startup"]
    assert r["module_file"].startswith(str(overlay.site)), "the hook must come from the installed wheel"
    assert r["enum"] == ["external", "external", "external", "external", True]
    assert r["public_api_model"] == "external"
    assert r["public_api_schema_lists_external"] is True
    assert r["execution_api_model"] == "external"
    assert r["task_sdk_model"] == "external"
    assert r["task_sdk_enum"] == "external"
    assert r["generate_run_id"].startswith("external__2026-01-01T00:00:00")
    assert r["scheduler_queries_wrapped"] == [True, True]
    assert r["dag_query_wrapped"] is True
    assert r["queueing_query_wrapped"] is True
    assert r["state"] == {"airflow.utils.types": "patched", "airflow.sdk.api.datamodels._generated": "patched",
                          "airflow.models.dagrun": "patched", "airflow.models.dag": "patched",
                          "airflow.jobs.scheduler_job_runner": "patched"}
    assert "airflow-temporal" not in r["_output"]  # no warning on a tested version


def test_without_the_hook_stock_airflow_rejects_external(overlay):
    """Control: the same probe with the hook switched off shows what breaks in stock 3.3."""
    r = overlay.json(PROBE, env={external_runs.ENV_SWITCH: "off"})
    assert r["enum"].startswith("ERR ValueError")
    assert r["public_api_model"].startswith("ERR ValidationError") and "run_type" in r["public_api_model"]
    assert r["execution_api_model"].startswith("ERR ValidationError") and "run_type" in r["execution_api_model"]
    assert r["task_sdk_model"].startswith("ERR ValidationError") and "run_type" in r["task_sdk_model"]
    assert r["generate_run_id"].startswith("ERR ValueError")
    assert r["scheduler_queries_wrapped"] == [False, False]
    assert r["dag_query_wrapped"] is False
    assert r["queueing_query_wrapped"] is False


def test_untested_airflow_version_changes_nothing_and_warns_once(overlay):
    # `import airflow` itself imports both enum modules, so make 3.3.2 "untested" rather than faking
    # airflow.__version__ (which could only be changed after they were patched).
    code = "import airflow_temporal.external_runs as x; x.TESTED_AIRFLOW_VERSIONS = ('3.3.99',)\n" + PROBE
    r = overlay.json(code)
    assert r["enum"].startswith("ERR ValueError")
    assert r["task_sdk_model"].startswith("ERR ValidationError") and "run_type" in r["task_sdk_model"]
    assert r["scheduler_queries_wrapped"] == [False, False]
    assert r["dag_query_wrapped"] is False
    assert r["queueing_query_wrapped"] is False
    assert set(r["state"].values()) == {"skipped: untested Airflow version"}
    warnings = [line for line in r["_output"].splitlines() if "airflow-temporal" in line]
    assert len(warnings) == 1 and "3.3.2" in warnings[0] and "NOT enabled" in warnings[0]


def test_force_mode_patches_an_untested_version(overlay):
    code = "import airflow_temporal.external_runs as x; x.TESTED_AIRFLOW_VERSIONS = ('3.3.99',)\n" + PROBE
    r = overlay.json(code, env={external_runs.ENV_SWITCH: "force"})
    assert r["task_sdk_model"] == "external" and r["public_api_model"] == "external"


def test_a_failing_patch_never_breaks_the_import(overlay):
    code = """
        import json, sys
        import airflow_temporal.external_runs as x
        def boom(module):
            raise RuntimeError("simulated")
        x._PATCHES["airflow.utils.types"] = boom
        from airflow.utils.types import DagRunType   # must still import
        from airflow.models.dagrun import DagRun
        print(json.dumps({"members": len(list(DagRunType)), "state": x.STATE}))
    """
    r = overlay.json(code)
    assert r["members"] == 6
    assert r["state"]["airflow.utils.types"].startswith("error: RuntimeError")
    assert r["state"]["airflow.models.dagrun"] == "patched"
    assert "failed to patch airflow.utils.types" in r["_output"]


def test_status_cli(overlay, tmp_path):
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__TEMPORAL__SCHEDULES": "True",
           "AIRFLOW__TEMPORAL__SCHEDULED_DAGS": "b,a,,"}
    p = subprocess.run([str(overlay.python), "-m", "airflow_temporal.external_runs", "status"],
                       capture_output=True, text=True, timeout=180, env=env)
    assert p.returncode == 0, p.stderr
    status = json.loads(p.stdout[p.stdout.index("{"):])
    assert status["loaded_by_pth"] and status["hook_on_meta_path"]
    assert set(status["modules"].values()) == {"patched"} and "airflow.models.dag" in status["modules"]
    assert status["temporal_schedules"] == {"enabled": True, "tag": "temporal", "dags": ["a", "b"]}


def test_airflow_config_lists_the_schedule_options(overlay, tmp_path):
    """The [temporal] schedules / schedule_tag / scheduled_dags options come from the provider's config."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    for k in [k for k in env if k.startswith("AIRFLOW__TEMPORAL__")]:
        del env[k]
    listed = subprocess.run([str(overlay.root / "bin" / "airflow"), "config", "list", "--section", "temporal",
                             "--show-values", "--include-descriptions"], env=env, capture_output=True, text=True,
                            timeout=180)
    assert listed.returncode == 0, listed.stderr[-3000:]
    out = listed.stdout
    assert "schedules = False" in out and "schedule_tag = temporal" in out and "scheduled_dags = " in out
    assert "must match the worker's --schedules" in out


# ------------------------------------------------------------------------------- real PostgreSQL + Airflow
@pytest.fixture(scope="module")
def stack(overlay, tmp_path_factory):
    if os.environ.get("AIRFLOW_TEMPORAL_SKIP_DB_TESTS"):
        pytest.skip("AIRFLOW_TEMPORAL_SKIP_DB_TESTS set")
    from airflow_temporal_testing.stack import Stack, StackError, find_pg_bin

    try:
        find_pg_bin()
    except StackError as exc:
        pytest.skip(str(exc))
    dags = tmp_path_factory.mktemp("dags")
    (dags / f"{DAG_ID}.py").write_text(DAG_FILE)
    for dag_id, params in SCHED_DAGS.items():
        (dags / f"{dag_id}.py").write_text(SCHED_DAG_FILE.format(dag_id=dag_id, **params))
    s = Stack(name="external-runs-test", ports="free", venv=overlay.root, executor="LocalExecutor",
              dags_folder=dags, workers=[], start_workers=False,
              extra_env={"AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "1",
                         "AIRFLOW__TEMPORAL__SCHEDULES": "True"})
    s.start_database()
    try:
        yield s
    finally:
        s.stop()


def _sql(stack, statement: str, params: dict | None = None, fetch: bool = False):
    import sqlalchemy as sa

    engine = sa.create_engine(stack.sql_alchemy_conn, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        res = conn.execute(sa.text(statement), params or {})
        rows = [tuple(r) for r in res] if fetch else None
    engine.dispose()
    return rows


def _insert_external_run(stack, run_id: str, ti_state: str | None = None) -> None:
    """What the Java worker writes: a running external DagRun and its TIs, plain SQL. log_template_id must be
    the newest log_template (as DagRun.__init__ sets it): with NULL, the API renders another log path."""
    (dag_version_id,) = _sql(stack, "SELECT id FROM dag_version WHERE dag_id = :d ORDER BY version_number DESC"
                                    " LIMIT 1", {"d": DAG_ID}, fetch=True)[0]
    _sql(stack, """
        INSERT INTO dag_run (dag_id, run_id, run_type, state, run_after, queued_at, start_date, clear_number,
                             span_status, conf, created_dag_version_id, backfill_id, log_template_id)
        VALUES (:d, :r, 'external', 'running', now() - interval '1 minute', now(), now(), 0,
                'not_started', '{}', :v, NULL, (SELECT max(id) FROM log_template))""", {"d": DAG_ID, "r": run_id, "v": dag_version_id})
    for task_id in ("first", "second"):
        _sql(stack, """
            INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, max_tries, pool,
                                       pool_slots, queue, priority_weight, span_status, dag_version_id, state,
                                       executor_config, operator, custom_operator_name)
            VALUES (:id, :t, :d, :r, -1, :try, 0, 'default_pool', 1, 'default', 1, 'not_started', :v, :s,
                    NULL, '_PythonDecoratedOperator', '@task')""",
             {"id": str(uuid.uuid4()), "t": task_id, "d": DAG_ID, "r": run_id, "v": dag_version_id,
              "s": ti_state if task_id == "first" else None, "try": 1 if ti_state else 0})


QUERY_PROBE = r'''
import json
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
out = {}
with create_session() as session:
    out["running"] = [(r.run_id, r.run_type) for r in DagRun.get_running_dag_runs_to_examine(session=session)]
    out["queued"] = [(r.run_id, r.run_type) for r in DagRun.get_queued_dag_runs_to_set_running(session)]
    session.rollback()
print(json.dumps(out))
'''


def test_scheduler_queries_skip_external_runs_on_a_real_db(stack, overlay):
    _sql(stack, "UPDATE dag SET is_paused = false WHERE dag_id = :d", {"d": DAG_ID})
    _insert_external_run(stack, "ext_query_running")
    _insert_external_run(stack, "ext_query_queued")
    _sql(stack, "UPDATE dag_run SET state = 'queued' WHERE run_id = 'ext_query_queued'")
    try:
        env = stack.airflow_env()
        on = overlay.json(QUERY_PROBE, env=env)
        off = overlay.json(QUERY_PROBE, env={**env, external_runs.ENV_SWITCH: "off"})
        assert ["ext_query_running", "external"] in off["running"]  # stock 3.3 would hand it to the scheduler
        assert ["ext_query_queued", "external"] in off["queued"]
        assert on["running"] == [] and on["queued"] == []
    finally:
        _sql(stack, "DELETE FROM task_instance WHERE run_id LIKE 'ext_query_%'")
        _sql(stack, "DELETE FROM dag_run WHERE run_id LIKE 'ext_query_%'")
        _sql(stack, "UPDATE dag SET is_paused = true WHERE dag_id = :d", {"d": DAG_ID})


QUEUEING_PROBE = r'''
import json
from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.utils.session import create_session
runner = SchedulerJobRunner(job=Job())
with create_session() as session:
    tis = runner._executable_task_instances_to_queued(max_tis=32, session=session)
    out = sorted([ti.run_id, ti.task_id] for ti in tis)
    session.rollback()
print(json.dumps({"queued": out}))
'''


def _insert_manual_run(stack, run_id: str) -> None:
    """A manual run of the same DAG whose `first` is scheduled, as the scheduler's schedule_tis leaves it."""
    _insert_external_run(stack, run_id, ti_state="scheduled")
    _sql(stack, "UPDATE dag_run SET run_type = 'manual' WHERE run_id = :r", {"r": run_id})


def test_scheduler_does_not_queue_scheduled_tis_of_external_runs_on_a_real_db(stack, overlay):
    """A deferred TI of an external run that its trigger (or a Human-in-the-loop response) moved to
    `scheduled`: the scheduler's queueing query returns a manual run's scheduled TI, and the external run's
    only with the hook off (then stock 3.3 would queue it and hand it to its executor)."""
    _sql(stack, "UPDATE dag SET is_paused = false WHERE dag_id = :d", {"d": DAG_ID})
    _insert_external_run(stack, "ext_queueing_external", ti_state="scheduled")
    _insert_manual_run(stack, "ext_queueing_manual")
    try:
        env = stack.airflow_env()
        on = overlay.json(QUEUEING_PROBE, env=env)
        off = overlay.json(QUEUEING_PROBE, env={**env, external_runs.ENV_SWITCH: "off"})
        assert off["queued"] == [["ext_queueing_external", "first"], ["ext_queueing_manual", "first"]]
        assert on["queued"] == [["ext_queueing_manual", "first"]]
    finally:
        _sql(stack, "DELETE FROM task_instance WHERE run_id LIKE 'ext_queueing_%'")
        _sql(stack, "DELETE FROM dag_run WHERE run_id LIKE 'ext_queueing_%'")
        _sql(stack, "UPDATE dag SET is_paused = true WHERE dag_id = :d", {"d": DAG_ID})


DAGS_NEEDING_PROBE = r'''
import json, os
from airflow.models.dag import DagModel
from airflow.utils.session import create_session

def needing(**env):
    for key in ("SCHEDULES", "SCHEDULE_TAG", "SCHEDULED_DAGS"):
        os.environ.pop("AIRFLOW__TEMPORAL__" + key, None)
    os.environ.update({"AIRFLOW__TEMPORAL__" + k: v for k, v in env.items()})  # read by the hook at query time
    with create_session() as session:
        query, triggered = DagModel.dags_needing_dagruns(session)
        due = sorted(d.dag_id for d in query if d.dag_id.startswith("temporal_sched_"))
        session.rollback()
    return {"due": due, "asset_triggered": sorted(triggered)}

print(json.dumps({
    "on": needing(SCHEDULES="True"),
    "off": needing(SCHEDULES="False"),
    "default": needing(),
    "by_dag_id": needing(SCHEDULES="True", SCHEDULE_TAG="", SCHEDULED_DAGS="nope,temporal_sched_plain"),
    "tag_and_ids": needing(SCHEDULES="True", SCHEDULED_DAGS="temporal_sched_plain"),
    "bad_bool": needing(SCHEDULES="maybe"),
}))
'''


def _queue_asset_event(stack) -> None:
    """What an asset event does for a DAG scheduled on that asset: an asset_dag_run_queue row."""
    _sql(stack, "INSERT INTO asset_dag_run_queue (asset_id, target_dag_id, created_at) "
                "SELECT id, :d, now() FROM asset WHERE name = :a", {"d": SCHED_ASSET, "a": SCHED_ASSET_NAME})


def _set_paused(stack, paused: bool) -> None:
    for dag_id in SCHED_DAG_IDS:
        _sql(stack, "UPDATE dag SET is_paused = :p WHERE dag_id = :d", {"p": paused, "d": dag_id})


def test_dags_needing_dagruns_leaves_out_opted_in_dags_on_a_real_db(stack, overlay):
    """DagModel.dags_needing_dagruns on PostgreSQL: the tagged cron DAG is due but left out with [temporal]
    schedules on; the opted-in asset-triggered DAG with a queued event is still returned; with schedules
    off (or not set) nothing is left out; opting in by dag_id works; a bad boolean leaves out nothing."""
    due = _sql(stack, "SELECT dag_id FROM dag WHERE next_dagrun_create_after <= now() ORDER BY dag_id", fetch=True)
    assert [r[0] for r in due if r[0].startswith("temporal_sched_")] == [SCHED_PLAIN, SCHED_TAGGED]
    _set_paused(stack, False)
    _queue_asset_event(stack)
    try:
        r = overlay.json(DAGS_NEEDING_PROBE, env=stack.airflow_env())
    finally:
        _sql(stack, "DELETE FROM asset_dag_run_queue WHERE target_dag_id = :d", {"d": SCHED_ASSET})
        _set_paused(stack, True)
    everything = {"due": [SCHED_ASSET, SCHED_PLAIN, SCHED_TAGGED], "asset_triggered": [SCHED_ASSET]}
    assert r["on"] == {"due": [SCHED_ASSET, SCHED_PLAIN], "asset_triggered": [SCHED_ASSET]}
    assert r["off"] == everything and r["default"] == everything
    assert r["by_dag_id"] == {"due": [SCHED_ASSET, SCHED_TAGGED], "asset_triggered": [SCHED_ASSET]}
    assert r["tag_and_ids"] == {"due": [SCHED_ASSET], "asset_triggered": [SCHED_ASSET]}
    assert r["bad_bool"] == everything
    assert "cannot read [temporal] schedules settings" in r["_output"]


@pytest.fixture(scope="module")
def airflow_up(stack):
    """The real api-server and scheduler (LocalExecutor), both started through the overlay's `airflow`."""
    procs = [stack._spawn(f"airflow-{c}", [stack.bin("airflow"), c]) for c in ("api-server", "scheduler")]
    from airflow_temporal_testing.stack import wait_until

    def healthy():
        stack._check_alive(*procs)
        try:
            h = stack.airflow.health()
        except Exception:  # noqa: BLE001
            return False
        return all((h.get(k) or {}).get("status") == "healthy" for k in ("metadatabase", "scheduler"))

    wait_until(healthy, 240, "api-server + scheduler healthy", interval=1,
               on_timeout=lambda: stack.log_tails(names=("airflow-api-server", "airflow-scheduler")))
    return stack


def test_api_lists_external_run_and_scheduler_leaves_it_alone(airflow_up, overlay):
    stack, api = airflow_up, airflow_up.airflow
    run_id = "external__probe_1"
    _insert_external_run(stack, run_id)
    # A deferred TI of an external run its trigger resumed: `scheduled`, queued by its workflow only.
    resumed_run_id = "external__probe_resumed"
    _insert_external_run(stack, resumed_run_id, ti_state="scheduled")
    api.unpause(DAG_ID)
    # A control run of the same DAG: the scheduler is alive and schedules this DAG's runs meanwhile.
    control = api.trigger(DAG_ID, run_id="manual__control_1", wait_parsed=60)
    api.wait_for_run(DAG_ID, control["dag_run_id"], timeout=240,
                     on_timeout=lambda: stack.log_tails(names=("airflow-scheduler",)))
    assert api.run(DAG_ID, control["dag_run_id"])["state"] == "success"
    time.sleep(5)  # a few more scheduler loops with the external run present

    # (a) REST API v2 + UI endpoints read the external run.
    runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"]
    ext = next(r for r in runs if r["dag_run_id"] == run_id)
    assert ext["run_type"] == "external" and ext["state"] == "running"
    assert api.run(DAG_ID, run_id)["run_type"] == "external"
    filtered = api.get(f"/dags/{DAG_ID}/dagRuns", params={"run_type": "external"})["dag_runs"]
    assert sorted(r["dag_run_id"] for r in filtered) == [run_id, resumed_run_id]
    assert api.get("/dags/~/dagRuns", params={"limit": 100})["total_entries"] >= 2
    assert {t["task_id"]: t["state"] for t in api.task_instances(DAG_ID, run_id)} == \
        {"first": None, "second": None}
    ui = api.session.get(f"{stack.airflow_url}/ui/grid/runs/{DAG_ID}", params={"limit": 10}, timeout=30)
    assert ui.status_code == 200 and "external" in ui.text, ui.text[:500]

    # (b) The scheduler never touched it: no TI queued/scheduled, run untouched, never examined.
    rows = _sql(stack, "SELECT task_id, state, try_number FROM task_instance WHERE run_id = :r ORDER BY task_id",
                {"r": run_id}, fetch=True)
    assert rows == [("first", None, 0), ("second", None, 0)]
    resumed = _sql(stack, "SELECT task_id, state, try_number, queued_by_job_id FROM task_instance "
                          "WHERE run_id = :r ORDER BY task_id", {"r": resumed_run_id}, fetch=True)
    assert resumed == [("first", "scheduled", 1, None), ("second", None, 1, None)]
    ((state, last_decision),) = _sql(stack, "SELECT state, last_scheduling_decision FROM dag_run "
                                            "WHERE run_id = :r", {"r": run_id}, fetch=True)
    assert state == "running" and last_decision is None
    sched_log = (stack.logs_dir / "airflow-scheduler.log").read_text(errors="replace")
    assert "Traceback" not in sched_log, sched_log[-4000:]


WORKLOAD = r'''
import json, sys
from sqlalchemy import select
from airflow.executors.workloads import ExecuteTask
from airflow.executors.base_executor import BaseExecutor
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
with create_session() as session:
    ti = session.scalars(select(TaskInstance).where(TaskInstance.run_id == sys.argv[1],
                                                    TaskInstance.task_id == "first")).one()
    wl = ExecuteTask.make(ti, generator=BaseExecutor().jwt_generator)
print(wl.model_dump_json())
'''


def test_real_task_runner_starts_a_ti_of_an_external_run(airflow_up, overlay, tmp_path):
    """(c) What the worker's activity does: the stock runner, PATCH /run (which returns the DagRun with
    run_type 'external' through the Execution API and the task SDK's models), task code, /state."""
    stack = airflow_up
    run_id = "external__probe_runner"
    _insert_external_run(stack, run_id, ti_state="queued")
    env = stack.airflow_env()
    script = tmp_path / "make_workload.py"
    script.write_text(WORKLOAD)
    p = subprocess.run([str(overlay.python), str(script), run_id], capture_output=True, text=True, env=env,
                       timeout=180)
    assert p.returncode == 0, p.stderr[-4000:]
    workload = p.stdout.strip().splitlines()[-1]
    runner = subprocess.run(
        [str(overlay.python), "-m", "airflow.sdk.execution_time.execute_workload", "--json-string", workload],
        capture_output=True, text=True, env=env, timeout=300, cwd=str(stack.state_dir))
    rows = _sql(stack, "SELECT task_id, state FROM task_instance WHERE run_id = :r ORDER BY task_id",
                {"r": run_id}, fetch=True)
    assert runner.returncode == 0, f"{rows}\n{runner.stdout[-3000:]}\n{runner.stderr[-5000:]}"
    assert rows == [("first", "success"), ("second", None)]
    ((state,),) = _sql(stack, "SELECT state FROM dag_run WHERE run_id = :r", {"r": run_id}, fetch=True)
    assert state == "running"  # closing the run is the workflow's job, not the scheduler's
    log = stack.airflow.log_text(DAG_ID, run_id, "first", 1)
    assert "first ran" in log


def test_owned_task_runner_runs_a_ti_of_an_external_run(airflow_up, overlay, tmp_path):
    """What the worker's activity does in Temporal-owned mode: airflow_temporal.worker.token_minter signs the try's token,
    airflow_temporal.worker.task_runner gets the OwnedTaskWorkload with it, without the signing key in its environment,
    and runs the attempt through the real api-server."""
    stack = airflow_up
    run_id = "external__probe_owned_runner"
    _insert_external_run(stack, run_id, ti_state="queued")
    ((ti_id, dag_version_id),) = _sql(stack, "SELECT id, dag_version_id FROM task_instance WHERE run_id = :r AND "
                                             "task_id = 'first'", {"r": run_id}, fetch=True)
    workload = tmp_path / "owned_task_workload.json"
    workload.write_text(json.dumps({
        "contract_version": 1,
        "ti": {"id": str(ti_id), "dag_version_id": str(dag_version_id), "task_id": "first", "dag_id": DAG_ID,
               "run_id": run_id, "try_number": 1, "map_index": -1, "pool_slots": 1, "queue": "default",
               "priority_weight": 1},
        "dag_rel_path": f"{DAG_ID}.py",
        "bundle_info": {"name": "dags-folder", "version": None},
        "token": _minted_token(overlay, stack.airflow_env(), str(ti_id)),
    }))
    runner_env = {k: v for k, v in stack.airflow_env().items() if not k.startswith("AIRFLOW__API_AUTH__JWT_")}
    runner = subprocess.run(
        [str(overlay.python), "-m", "airflow_temporal.worker.task_runner", "--json-path", str(workload)],
        capture_output=True, text=True, env=runner_env, timeout=300, cwd=str(stack.state_dir))
    api = stack.airflow
    states = api.ti_states(DAG_ID, run_id)
    assert runner.returncode == 0, f"{states}\n{runner.stdout[-3000:]}\n{runner.stderr[-5000:]}"
    assert states == {"first": "success", "second": None}
    assert api.run(DAG_ID, run_id)["state"] == "running"  # closing the run is the workflow's job
    assert "first ran" in api.log_text(DAG_ID, run_id, "first", 1)
    assert "eyJ" not in runner.stdout + runner.stderr  # no JWT (their header starts so) in the output


def _minted_token(overlay, env: dict, ti_id: str) -> str:
    minter = subprocess.run([str(overlay.python), "-m", "airflow_temporal.worker.token_minter"], input=ti_id + "\n",
                            capture_output=True, text=True, env=env, timeout=180)
    assert minter.returncode == 0, minter.stderr[-3000:]
    return json.loads(minter.stdout)["token"]


def test_real_scheduler_leaves_temporal_scheduled_dags_to_temporal(airflow_up):
    """[temporal] schedules on (the stack's env): the real scheduler creates the untagged every-minute DAG's
    scheduled run, none for the tagged one (due just as long), and still the opted-in asset DAG's
    asset-triggered run."""
    stack = airflow_up
    from airflow_temporal_testing.stack import wait_until

    def runs(dag_id):
        return _sql(stack, "SELECT run_type FROM dag_run WHERE dag_id = :d", {"d": dag_id}, fetch=True)

    _queue_asset_event(stack)
    _set_paused(stack, False)
    try:
        wait_until(lambda: runs(SCHED_PLAIN) and runs(SCHED_ASSET), 90,
                   "a scheduled run of the untagged DAG and an asset-triggered run of the opted-in asset DAG",
                   interval=1, on_timeout=lambda: stack.log_tails(names=("airflow-scheduler",)))
        time.sleep(3)  # a few more scheduler loops
        ((tagged_due,),) = _sql(stack, "SELECT next_dagrun_create_after <= now() FROM dag WHERE dag_id = :d",
                                {"d": SCHED_TAGGED}, fetch=True)
        assert tagged_due is True  # the tagged DAG was due all along...
        assert runs(SCHED_TAGGED) == []  # ...and got no run from Airflow
        assert {t for (t,) in runs(SCHED_PLAIN)} == {"scheduled"}
        assert [t for (t,) in runs(SCHED_ASSET)] == ["asset_triggered"]
    finally:
        _set_paused(stack, True)
        _sql(stack, "DELETE FROM asset_dag_run_queue WHERE target_dag_id = :d", {"d": SCHED_ASSET})
    sched_log = (stack.logs_dir / "airflow-scheduler.log").read_text(errors="replace")
    assert "Traceback" not in sched_log, sched_log[-4000:]
    assert "airflow-temporal: " not in sched_log, sched_log[-4000:]  # none of our warnings
