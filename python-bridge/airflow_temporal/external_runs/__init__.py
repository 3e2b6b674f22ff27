"""Teach a pip-installed Airflow 3.3.0-3.3.2 about ``run_type='external'`` DagRuns (Temporal-owned mode).

Stock Airflow 3.3 has no ``DagRunType.EXTERNAL``. The ``dag_run.run_type`` column is ``String(50)``, so
the rows our worker writes are stored fine, but every pydantic model that reads them (the public REST
API, the UI, the Execution API, the task SDK) validates the value against an enum and fails, and the
scheduler would happily schedule such runs itself. This module fixes both, without a fork:

* ``airflow.utils.types.DagRunType`` and the task SDK's generated
  ``airflow.sdk.api.datamodels._generated.DagRunType`` get a real member ``EXTERNAL = "external"``
  (``DagRunType("external")``, pydantic validation, JSON/OpenAPI schemas, ``list(DagRunType)``).
* ``DagRun.get_running_dag_runs_to_examine`` and ``DagRun.get_queued_dag_runs_to_set_running`` (the
  scheduler's two DagRun queries) get ``WHERE dag_run.run_type != 'external'`` added to their SELECT,
  before the LIMIT and the row locks, so the scheduler never sees, locks, schedules or changes them.
* ``DagModel.dags_needing_dagruns`` (the scheduler's query for DAGs due a new run) leaves out, when
  ``[temporal] schedules`` is true, the DAGs that opted in to Temporal Schedules (tag ``[temporal]
  schedule_tag`` or listed in ``[temporal] scheduled_dags``) unless they are in it because of queued
  asset events: Temporal Schedules create their timetable runs, Airflow keeps creating their
  asset-triggered ones. The settings are read from Airflow's conf at query time.
* ``SchedulerJobRunner._executable_task_instances_to_queued`` (the scheduler's "which scheduled TIs do I
  queue now" query) leaves out the TIs of external runs: a deferred task of such a run that Airflow's
  triggerer (or a Human-in-the-loop response) moves to ``scheduled`` is queued by its Temporal workflow,
  never by the scheduler.

How it gets into every Airflow process: the wheel ships ``airflow_temporal_external_runs.pth`` at the top
of site-packages; ``site`` runs its single line at interpreter start-up, which calls :func:`install`. That
only puts a small post-import hook on ``sys.meta_path`` (nothing of Airflow is imported): the patches run
right after ``airflow.utils.types``, ``airflow.sdk.api.datamodels._generated``, ``airflow.models.dagrun``,
``airflow.models.dag`` and ``airflow.jobs.scheduler_job_runner`` finish executing, i.e. before any other
module can use them.

Guards: the patches apply only on the exact Airflow versions in :data:`TESTED_AIRFLOW_VERSIONS` and only
if the code they touch has the expected shape; otherwise one warning is logged and nothing is changed.
Every step is wrapped so that an unexpected error is logged and never propagates into Airflow.
``AIRFLOW_TEMPORAL_EXTERNAL_RUNS=off`` disables everything; ``=force`` skips the version check (the shape
checks still apply). ``python -m airflow_temporal.external_runs status`` shows what applied in a process.

Keep this module's import cost tiny: it is imported by every Python process of the environment.
"""
from __future__ import annotations

import os
import sys

EXTERNAL = "external"
EXTERNAL_MEMBER = "EXTERNAL"
TESTED_AIRFLOW_VERSIONS = ("3.3.0", "3.3.1", "3.3.2")
ENV_SWITCH = "AIRFLOW_TEMPORAL_EXTERNAL_RUNS"
PTH_NAME = "airflow_temporal_external_runs.pth"
# The exact line of the .pth the wheel installs (written by python-bridge/setup.py).
PTH_LINE = "import airflow_temporal.external_runs as _atx; _atx.install()\n"

_ENUM_MODULES = ("airflow.utils.types", "airflow.sdk.api.datamodels._generated")
_DAGRUN_MODULE = "airflow.models.dagrun"
_SCHEDULER_QUERIES = ("get_running_dag_runs_to_examine", "get_queued_dag_runs_to_set_running")
_DAG_MODULE = "airflow.models.dag"
_DAG_QUERY = "dags_needing_dagruns"
_SCHEDULER_MODULE = "airflow.jobs.scheduler_job_runner"
_QUEUEING_QUERY = "_executable_task_instances_to_queued"
# [temporal] options of the Temporal Schedules exclusion (also read by the worker JAR from
# AIRFLOW__TEMPORAL__SCHEDULES / _SCHEDULE_TAG / _SCHEDULED_DAGS); defaults as in get_provider_info.py.
CONF_SECTION = "temporal"
DEFAULT_SCHEDULE_TAG = "temporal"
# The values stock 3.3.x defines; the shape check refuses an enum that differs.
_STOCK_VALUES = {"backfill", "scheduled", "manual", "operator_triggered", "asset_triggered",
                 "asset_materialization"}
_MARK = "_airflow_temporal_external_runs"

# What happened in this process, for `status` and the tests: module name -> "patched" / "skipped: ..." / ...
STATE: dict[str, str] = {}
_warned: set[str] = set()
_installed = False


def _log():
    import logging

    return logging.getLogger("airflow_temporal.external_runs")


def _warn_once(key: str, msg: str, *args) -> None:
    if key not in _warned:
        _warned.add(key)
        _log().warning(msg, *args)


def _mode() -> str:
    value = os.environ.get(ENV_SWITCH, "").strip().lower()
    if value in ("0", "off", "false", "no", "disabled"):
        return "off"
    return "force" if value == "force" else "on"


def _version_ok() -> bool:
    airflow = sys.modules.get("airflow")
    version = getattr(airflow, "__version__", None)
    if version in TESTED_AIRFLOW_VERSIONS:
        return True
    if _mode() == "force":
        _warn_once("version", "airflow-temporal: %s=force: patching Airflow %s for run_type='external' "
                   "although only %s were tested", ENV_SWITCH, version, ", ".join(TESTED_AIRFLOW_VERSIONS))
        return True
    _warn_once("version", "airflow-temporal: Airflow %s is not one of the versions tested for Temporal-owned "
               "DagRuns (%s): run_type='external' is NOT enabled in this process (the Airflow API will reject "
               "such runs and the scheduler will not skip them, nor the timetable runs of DAGs opted in to "
               "Temporal Schedules). Executor mode is unaffected.",
               version, ", ".join(TESTED_AIRFLOW_VERSIONS))
    return False


# ---------------------------------------------------------------------------------------------- patches
def add_enum_member(enum_cls, name: str, value: str):
    """Add a real member to an existing ``(str, Enum)`` class; idempotent. Returns the member.

    Mirrors what ``enum`` does for a declared member: ``_member_map_``, ``_value2member_map_``,
    ``_member_names_`` and the class attribute, so ``cls(value)``, ``cls[name]``, ``cls.NAME``,
    iteration, pickling and pydantic (whose validator falls back to ``cls(value)`` for values missing
    from the lookup it built earlier) all work.
    """
    existing = enum_cls._value2member_map_.get(value)
    if existing is not None:
        return existing
    if name in enum_cls._member_map_:
        raise ValueError(f"{enum_cls.__qualname__}.{name} exists with another value")
    member = enum_cls._member_type_.__new__(enum_cls, value)
    member._name_ = name
    member._value_ = value
    member.__objclass__ = enum_cls
    member._sort_order_ = len(enum_cls._member_names_)
    type.__setattr__(enum_cls, name, member)  # EnumType.__setattr__ refuses members; this is a new name
    enum_cls._member_map_[name] = member
    enum_cls._value2member_map_[value] = member
    enum_cls._member_names_.append(name)
    hashable = getattr(enum_cls, "_hashable_values_", None)  # Python >= 3.13
    if isinstance(hashable, list):
        hashable.append(value)
    return member


def _patch_enum(module) -> str:
    enum_cls = getattr(module, "DagRunType", None)
    import enum

    if not (isinstance(enum_cls, type) and issubclass(enum_cls, str) and issubclass(enum_cls, enum.Enum)):
        return "skipped: DagRunType is not a (str, Enum)"
    values = set(enum_cls._value2member_map_)
    if EXTERNAL in values:
        return "present"  # upstream (or a previous run of this hook) already has it
    if values != _STOCK_VALUES:
        return f"skipped: unexpected DagRunType values {sorted(values)}"
    member = add_enum_member(enum_cls, EXTERNAL_MEMBER, EXTERNAL)
    if enum_cls(EXTERNAL) is not member or member.value != EXTERNAL or member != EXTERNAL:
        return "error: member added but lookup does not return it"
    return "patched"


def _wrap_row_locked_queries(module, owner_cls, names, var_name: str, add_filter) -> str:
    """Make the ``with_row_locks`` of ``module`` apply ``add_filter`` to the query it is given, but only
    while one of the methods ``owner_cls.<names>`` (classmethods or plain methods) runs (a context variable
    tells). Each of those queries passes its final SELECT through that one call, so the filter lands in SQL,
    before the LIMIT and the row locks. Every other caller of the module's ``with_row_locks`` is unaffected."""
    import contextvars
    import inspect

    original_row_locks = getattr(module, "with_row_locks", None)
    if not callable(original_row_locks):
        return f"skipped: {module.__name__} has no with_row_locks"
    if owner_cls.__dict__.get(_MARK, False):
        return "patched"
    raw = {}
    for name in names:
        attr = owner_cls.__dict__.get(name)
        if isinstance(attr, classmethod):
            func, rewrap = attr.__func__, classmethod
        elif inspect.isfunction(attr):
            func, rewrap = attr, (lambda f: f)
        else:
            return f"skipped: {owner_cls.__name__}.{name} is not a method"
        inner = inspect.unwrap(func)
        # The filter is injected through the one with_row_locks(...) call each query makes.
        if "with_row_locks" not in getattr(getattr(inner, "__code__", None), "co_names", ()):
            return f"skipped: {owner_cls.__name__}.{name} does not call with_row_locks"
        raw[name] = (func, rewrap)
    active = contextvars.ContextVar(var_name, default=False)

    def with_row_locks(query, *args, **kwargs):
        if active.get():
            query = add_filter(query)
        return original_row_locks(query, *args, **kwargs)

    with_row_locks.__wrapped__ = original_row_locks
    with_row_locks.__doc__ = original_row_locks.__doc__

    def make(func):
        def scheduler_query(owner, *args, **kwargs):
            token = active.set(True)
            try:
                return func(owner, *args, **kwargs)
            finally:
                active.reset(token)

        scheduler_query.__name__ = func.__name__
        scheduler_query.__qualname__ = func.__qualname__
        scheduler_query.__doc__ = func.__doc__
        scheduler_query.__wrapped__ = func
        return scheduler_query

    module.with_row_locks = with_row_locks
    for name, (func, rewrap) in raw.items():
        setattr(owner_cls, name, rewrap(make(func)))
    setattr(owner_cls, _MARK, True)
    return "patched"


def _patch_dagrun(module) -> str:
    dag_run_cls = getattr(module, "DagRun", None)
    if dag_run_cls is None:
        return "skipped: airflow.models.dagrun has no DagRun"
    run_type_col = dag_run_cls.run_type
    return _wrap_row_locked_queries(module, dag_run_cls, _SCHEDULER_QUERIES,
                                    "airflow_temporal_exclude_external_runs",
                                    lambda query: query.where(run_type_col != EXTERNAL))


def _patch_scheduler_job_runner(module) -> str:
    """The scheduler queues every ``scheduled`` TI of a running DagRun; those of external runs are their
    workflow's to queue (a deferral or Human-in-the-loop wait that ended): leave them out, in SQL."""
    runner_cls = getattr(module, "SchedulerJobRunner", None)
    ti_cls = getattr(module, "TI", None)
    dag_run_cls = getattr(module, "DR", None)
    if runner_cls is None or ti_cls is None or dag_run_cls is None:
        return "skipped: airflow.jobs.scheduler_job_runner has no SchedulerJobRunner / TI / DR"
    if getattr(ti_cls, "__tablename__", None) != "task_instance" or getattr(dag_run_cls, "__tablename__", None) \
            != "dag_run":
        return "skipped: TI / DR are not the task_instance / dag_run models"

    def exclude_external_run_tis(query):
        from sqlalchemy import and_, exists, not_, select

        dag_runs = dag_run_cls.__table__
        external = exists(select(dag_runs.c.id).where(and_(dag_runs.c.dag_id == ti_cls.dag_id,
                                                           dag_runs.c.run_id == ti_cls.run_id,
                                                           dag_runs.c.run_type == EXTERNAL)))
        return query.where(not_(external))

    return _wrap_row_locked_queries(module, runner_cls, (_QUEUEING_QUERY,),
                                    "airflow_temporal_exclude_external_run_tis", exclude_external_run_tis)


# ------------------------------------------------------------------ Temporal Schedules: opted-in DAGs
def schedule_settings() -> dict:
    """``[temporal] schedules`` / ``schedule_tag`` / ``scheduled_dags`` from Airflow's conf, read when called.

    Parsed like the worker JAR parses the same ``AIRFLOW__TEMPORAL__*`` values: an empty tag opts in by
    dag_id only; the list is split on ``,`` and blank entries are dropped (no other trimming). Raises
    what Airflow's conf raises for a value that is not a boolean.
    """
    from airflow.configuration import conf

    enabled = conf.getboolean(CONF_SECTION, "schedules", fallback=False)
    tag = conf.get(CONF_SECTION, "schedule_tag", fallback=DEFAULT_SCHEDULE_TAG)
    raw = conf.get(CONF_SECTION, "scheduled_dags", fallback="")
    dags = sorted({d for d in str(raw or "").split(",") if d.strip()})
    return {"enabled": enabled, "tag": "" if tag is None else str(tag), "dags": dags}


def _asset_triggered_dag_ids(query, dag_id_col):
    """The dag ids of the ``DagModel.dag_id.in_(asset_triggered_dag_ids)`` branch of the query's WHERE
    (DAGs with queued asset events whose condition is met), or None if there is not exactly one."""
    from sqlalchemy.sql import operators, visitors
    from sqlalchemy.sql.elements import BinaryExpression, BindParameter

    table = dag_id_col.table
    found = []
    for element in visitors.iterate(query.whereclause):
        if (isinstance(element, BinaryExpression) and element.operator is operators.in_op
                and getattr(element.left, "key", None) == dag_id_col.key
                and getattr(getattr(element.left, "table", None), "name", None) == table.name
                and isinstance(element.right, BindParameter) and element.right.expanding):
            found.append(element.right.value)
    if len(found) != 1 or not isinstance(found[0], (list, tuple, set, frozenset)):
        return None
    return sorted(found[0])


def _exclude_opted_in_dags(query, dag_model_cls, dag_tag_cls):
    """``dags_needing_dagruns``' SELECT, minus the DAGs opted in to Temporal Schedules that are only due by
    their timetable. Never raises: on any error the query is returned unchanged and a warning logged."""
    try:
        settings = schedule_settings()
    except Exception as exc:  # noqa: BLE001 - e.g. [temporal] schedules = maybe
        _warn_once("schedules-conf", "airflow-temporal: cannot read [temporal] schedules settings (%r): the "
                   "scheduler does NOT leave DAGs opted in to Temporal Schedules alone", exc)
        return query
    if not settings["enabled"] or not (settings["tag"] or settings["dags"]):
        return query
    try:
        from sqlalchemy import exists, func, not_, or_, select

        dag_id = dag_model_cls.dag_id
        opted_in = []
        if settings["tag"]:
            tags = dag_tag_cls.__table__
            opted_in.append(exists(select(tags.c.dag_id).where(tags.c.dag_id == dag_id,
                                                               tags.c.name == settings["tag"])))
        if settings["dags"]:
            opted_in.append(dag_id.in_(settings["dags"]))
        not_opted_in = not_(or_(*opted_in))
        asset_ids = _asset_triggered_dag_ids(query, dag_id)
        if asset_ids is None:
            # Unexpected shape: keep opted-in DAGs only while their timetable is not due (so an
            # asset-triggered one is still picked up while no timetable run is due).
            _warn_once("schedules-shape", "airflow-temporal: DagModel.dags_needing_dagruns has no single "
                       "'dag_id IN (asset-triggered)' condition; leaving out opted-in DAGs whose timetable is due")
            due = dag_model_cls.next_dagrun_create_after
            return query.where(or_(not_opted_in, due.is_(None), due > func.now()))
        if asset_ids:
            return query.where(or_(not_opted_in, dag_id.in_(asset_ids)))
        return query.where(not_opted_in)
    except Exception as exc:  # noqa: BLE001 - must never break the scheduler loop
        _warn_once("schedules-filter", "airflow-temporal: failed to leave DAGs opted in to Temporal Schedules "
                   "out of the scheduler's query: %r", exc)
        return query


def _patch_dag(module) -> str:
    dag_model_cls = getattr(module, "DagModel", None)
    dag_tag_cls = getattr(module, "DagTag", None)
    if dag_model_cls is None or dag_tag_cls is None:
        return "skipped: airflow.models.dag has no DagModel / DagTag"
    columns = dag_tag_cls.__table__.c
    if "dag_id" not in columns or "name" not in columns or \
            getattr(dag_model_cls, "next_dagrun_create_after", None) is None:
        return "skipped: unexpected DagTag / DagModel columns"
    return _wrap_row_locked_queries(module, dag_model_cls, (_DAG_QUERY,),
                                    "airflow_temporal_exclude_temporal_scheduled_dags",
                                    lambda query: _exclude_opted_in_dags(query, dag_model_cls, dag_tag_cls))


_PATCHES = {
    "airflow.utils.types": _patch_enum,
    "airflow.sdk.api.datamodels._generated": _patch_enum,
    _DAGRUN_MODULE: _patch_dagrun,
    _DAG_MODULE: _patch_dag,
    _SCHEDULER_MODULE: _patch_scheduler_job_runner,
}
# What a module's patch enables, for the warnings.
_FEATURE = {_DAG_MODULE: "leaving DAGs opted in to Temporal Schedules out of the scheduler's timetable runs",
            _SCHEDULER_MODULE: "leaving the scheduled TIs of external runs (resumed deferrals) to Temporal"}


def _apply(fullname: str, module) -> None:
    """Run one patch; never raises."""
    try:
        if _mode() == "off":
            STATE[fullname] = "disabled"
            return
        if not _version_ok():
            STATE[fullname] = "skipped: untested Airflow version"
            return
        result = _PATCHES[fullname](module)
        STATE[fullname] = result
        if not result.startswith(("patched", "present")):
            _warn_once(fullname, "airflow-temporal: %s not applied to %s (%s)",
                       _FEATURE.get(fullname, "run_type='external' support"), fullname, result)
    except Exception as exc:  # noqa: BLE001 - must never break an Airflow process
        STATE[fullname] = f"error: {exc!r}"
        try:
            _warn_once(fullname, "airflow-temporal: failed to patch %s for %s: %r", fullname,
                       _FEATURE.get(fullname, "run_type='external'"), exc)
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------------------------------- import hook
class _HookedLoader:
    """Wraps the real loader; runs the patch right after the module body executed."""

    def __init__(self, loader, fullname: str):
        self._loader = loader
        self._fullname = fullname

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _apply(self._fullname, module)

    def __getattr__(self, item):  # get_source, get_filename, is_package, resource readers, ...
        return getattr(self._loader, item)


class _PostImportFinder:
    """A ``sys.meta_path`` entry that only reacts to the module names of :data:`_PATCHES`."""

    _busy: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _PATCHES or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or isinstance(finder, _PostImportFinder):
                    continue
                find_spec = getattr(finder, "find_spec", None)
                if find_spec is None:
                    continue
                spec = find_spec(fullname, path, target)
                if spec is not None:
                    break
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return None
            spec.loader = _HookedLoader(spec.loader, fullname)
            return spec
        except Exception:  # noqa: BLE001 - fall back to the normal import
            return None
        finally:
            self._busy.discard(fullname)

    def invalidate_caches(self):
        pass


def install() -> None:
    """Register the post-import hook (called by the .pth); patch modules that are already imported.

    Idempotent and never raises.
    """
    global _installed
    try:
        if _installed or _mode() == "off":
            return
        if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, _PostImportFinder())
        _installed = True
        for fullname in _PATCHES:
            module = sys.modules.get(fullname)
            if module is not None:
                _apply(fullname, module)
    except Exception:  # noqa: BLE001
        pass


# ---------------------------------------------------------------------------------------------- CLI
def status() -> dict:
    """Import the patched modules (this imports Airflow) and report what applied in this process, and the
    ``[temporal]`` Temporal Schedules settings the scheduler's query would use now."""
    import importlib

    install()
    for name in _PATCHES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            STATE.setdefault(name, f"import failed: {exc!r}")
    airflow = sys.modules.get("airflow")
    try:
        schedules = schedule_settings()
    except Exception as exc:  # noqa: BLE001
        schedules = {"error": repr(exc)}
    return {
        "airflow_version": getattr(airflow, "__version__", None),
        "tested_versions": list(TESTED_AIRFLOW_VERSIONS),
        "mode": _mode(),
        "hook_on_meta_path": any(isinstance(f, _PostImportFinder) for f in sys.meta_path),
        "loaded_by_pth": _installed_by_pth(),
        "modules": {name: STATE.get(name, "not imported") for name in _PATCHES},
        "temporal_schedules": schedules,
    }


def _installed_by_pth() -> bool:
    import site
    import sysconfig

    dirs = set(getattr(site, "getsitepackages", lambda: [])()) | {sysconfig.get_paths()["purelib"]}
    return any(os.path.exists(os.path.join(d, PTH_NAME)) for d in dirs)


def write_pth(directory: str | None = None) -> str:
    """Write the .pth into ``directory`` (default: this interpreter's purelib). For editable installs,
    where setuptools' editable wheel does not carry files outside the package."""
    import sysconfig

    directory = directory or sysconfig.get_paths()["purelib"]
    path = os.path.join(directory, PTH_NAME)
    with open(path, "w") as f:
        f.write(PTH_LINE)
    return path
