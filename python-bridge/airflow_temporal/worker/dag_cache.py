"""
Parse once per DAG version: a pooled runner parses the DAG file before Airflow's supervisor forks the
task process, and keeps the parse for the next attempts of the same DAG version.

Airflow's task process parses its DAG file at every attempt (``task_runner.parse`` builds a
``BundleDagBag`` of that one file), LocalExecutor's included. For a no-op task that parse is most of
the attempt: building every operator of the DAG, 200 of them in a 200-task fan-out. A pooled runner
(``pooled_runner``) runs one attempt after another, so it can parse a file once and hand the result to
every task process it forks: :func:`prepare` parses just before ``supervise_task`` forks, under the
same parsing context Airflow sets, and the task process's ``BundleDagBag(...)`` then returns that bag
instead of parsing again. The task process gets the bag by fork (copy-on-write): what a task changes
in its operators stays in that task process.

A parse is reused only while parsing again would give the same DAG:

* for at most ``[dag_processor] min_file_process_interval`` (30 s), the age of the scheduler's own
  view of a DAG, so that values top-level code takes from the clock or the environment are as fresh;
* the same bundle name and version, the same file, and that file and every module of the bundle it
  imported still have the same mtime and size (a changed module is also dropped from ``sys.modules``,
  so that the next parse imports it again);
* when the file's top-level code read the parsing context (``get_parsing_context``), only for the same
  task;
* the parse had no import errors, and its DAG has the attempt's task;
* the bundle is a local folder (``LocalDagBundle``, such as ``dags-folder``): other bundles fetch when
  initialized, with connections only the task process can read.

It is not used at all when the file's top-level code called the Execution API (a Variable, a
Connection): a pooled runner has no connection to it, so such a file is parsed in the task process,
as before. Whatever goes wrong in :func:`prepare`, the task process parses as Airflow does.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# DAG versions a pooled runner keeps parsed (most recently used first out of eviction).
MAX_PARSED = 8

_CACHED_MARK = "_airflow_temporal_parse_once"


@dataclass
class _Parse:
    bag: Any
    files: dict[str, tuple[int, int]]  # path -> (mtime_ns, size) of the DAG file and the bundle modules it imported
    modules: tuple[str, ...]  # the bundle's modules the parse imported
    per_task: bool  # the file read the parsing context: valid for `task_id` only
    task_id: str
    parsed_at: float  # time.monotonic()

    def still_valid(self, dag_id: str, task_id: str, max_age: float) -> bool:
        if self.per_task and task_id != self.task_id:
            return False
        if time.monotonic() - self.parsed_at > max_age:
            return False
        if task_id not in self.bag.dags[dag_id].task_dict:  # e.g. tasks made from the date at parse time
            return False
        return all(_stat(path) == stamp for path, stamp in self.files.items())


@dataclass(frozen=True)
class _Handed:
    """The parse this attempt's task process is to use, and the exact call it answers."""

    parse: _Parse
    dag_folder: str
    bundle_path: str
    bundle_name: str
    dag_id: str
    task_id: str


_parses: OrderedDict[tuple, _Parse] = OrderedDict()
_handed: _Handed | None = None
_airflow_bag_class: type | None = None  # Airflow's BundleDagBag, which parses
_context_read = False


def install() -> None:
    """Makes this process (a runner server, before it forks pooled runners) parse once per DAG version.

    Idempotent. Replaces ``airflow.dag_processing.dagbag.BundleDagBag`` by a subclass that returns the
    handed parse, and wraps ``supervisor.supervise_task`` to :func:`prepare` first.
    """
    from airflow.dag_processing import dagbag
    from airflow.sdk.definitions import context
    from airflow.sdk.execution_time import supervisor

    global _airflow_bag_class
    if getattr(dagbag.BundleDagBag, _CACHED_MARK, False):
        return
    original_bag = _airflow_bag_class = dagbag.BundleDagBag

    class BundleDagBag(original_bag):
        def __new__(cls, *args, **kwargs):
            parsed = _handed_bag(args, kwargs)
            if parsed is not None:
                # An instance of the original class, so Python does not run __init__ (the parse) on it.
                return parsed
            return super().__new__(cls)

    # Airflow names the bag's logger after its class: the task log must not change.
    BundleDagBag.__module__ = original_bag.__module__
    BundleDagBag.__qualname__ = original_bag.__qualname__
    setattr(BundleDagBag, _CACHED_MARK, True)
    dagbag.BundleDagBag = BundleDagBag

    original_context = context.get_parsing_context

    @functools.wraps(original_context)
    def get_parsing_context():
        global _context_read
        _context_read = True
        return original_context()

    context.get_parsing_context = get_parsing_context
    import airflow.sdk

    airflow.sdk.get_parsing_context = get_parsing_context

    original_supervise_task = supervisor.supervise_task

    @functools.wraps(original_supervise_task)
    def supervise_task(*, ti, bundle_info, dag_rel_path, **kwargs):
        prepare(ti.dag_id, ti.task_id, bundle_info, dag_rel_path)
        return original_supervise_task(ti=ti, bundle_info=bundle_info, dag_rel_path=dag_rel_path, **kwargs)

    supervisor.supervise_task = supervise_task


def prepare(dag_id: str, task_id: str, bundle_info, dag_rel_path) -> None:
    """Hands the next forked task process a parse of its DAG file, parsing it here if needed."""
    global _handed
    _handed = None
    try:
        bundle_path = _local_bundle_path(bundle_info.name, bundle_info.version)
        if bundle_path is None:
            return
        dag_folder = os.fspath(Path(bundle_path, dag_rel_path))
        key = (bundle_info.name, bundle_info.version, dag_folder, dag_id)
        parse = _parses.get(key)
        if parse is None or not parse.still_valid(dag_id, task_id, _max_age()):
            if parse is not None:
                _forget(key)
            parse = _parse(dag_folder, bundle_path, bundle_info.name, dag_id, task_id)
            if parse is None:
                return
            _parses[key] = parse
            while len(_parses) > MAX_PARSED:
                _forget(next(iter(_parses)))
        _parses.move_to_end(key)
        _handed = _Handed(parse, dag_folder, bundle_path, bundle_info.name, dag_id, task_id)
    except Exception:  # noqa: BLE001 - never worse than Airflow: the task process parses itself
        _handed = None


@functools.lru_cache(maxsize=None)
def _local_bundle_path(name: str, version: str | None) -> str | None:
    """A local folder bundle's path; None for other bundles, which fetch (git) when initialized, with
    connections only the task process can read: the task process initializes and parses them, as Airflow
    does. Kept per process: the bundle config was read when the runner server started."""
    from airflow.dag_processing.bundles.local import LocalDagBundle
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    bundle = DagBundlesManager().get_bundle(name=name, version=version)
    return str(bundle.path) if isinstance(bundle, LocalDagBundle) else None


def _parse(dag_folder: str, bundle_path: str, bundle_name: str, dag_id: str, task_id: str) -> _Parse | None:
    """A fresh parse of ``dag_folder`` as ``task_runner.parse`` does it, or None when it must not be reused."""
    global _context_read
    from airflow.sdk.definitions._internal.dag_parsing_context import _airflow_parsing_context_manager
    from airflow.sdk.execution_time.supervisor import set_supervisor_comms

    modules_before = set(sys.modules)
    path_before = list(sys.path)
    no_api = _NoExecutionApi()
    _context_read = False
    try:
        with set_supervisor_comms(no_api), _airflow_parsing_context_manager(dag_id=dag_id, task_id=task_id):
            bag = _airflow_bag_class(dag_folder=dag_folder, safe_mode=False, load_op_links=False,
                                     bundle_path=Path(bundle_path), bundle_name=bundle_name)
    finally:
        sys.path[:] = path_before  # the task process's own BundleDagBag call adds the bundle path
    root = os.path.join(os.path.realpath(bundle_path), "")
    modules = tuple(name for name in set(sys.modules) - modules_before
                    if _file_under(sys.modules.get(name), root))
    if no_api.used or bag.import_errors or dag_id not in bag.dags or task_id not in bag.dags[dag_id].task_dict:
        for name in modules:
            sys.modules.pop(name, None)
        return None
    files = {dag_folder: _stat(dag_folder)}
    for name in modules:
        files[sys.modules[name].__file__] = _stat(sys.modules[name].__file__)
    # Not gc.freeze()d as the server's imports are: a parse that is replaced must stay collectable.
    return _Parse(bag, files, modules, _context_read, task_id, time.monotonic())


def _handed_bag(args, kwargs) -> Any | None:
    """The handed parse, if this ``BundleDagBag(...)`` call is the task runner's parse of the handed file."""
    handed = _handed
    if handed is None or args:
        return None
    from airflow.sdk.definitions.context import get_parsing_context

    expected = {"dag_folder": handed.dag_folder, "safe_mode": False, "load_op_links": False,
                "bundle_path": handed.bundle_path, "bundle_name": handed.bundle_name}
    given = {name: (str(value) if name == "bundle_path" else value) for name, value in kwargs.items()}
    if given != expected:
        return None
    context = get_parsing_context()
    if (context.dag_id, context.task_id) != (handed.dag_id, handed.task_id):
        return None
    bag = handed.parse.bag
    # A logger the runner's parse cached would render with the runner's logging configuration, not with
    # the task log's: these objects log in the task process, so they get theirs afresh.
    dag = bag.dags[handed.dag_id]
    for obj in (bag, dag, dag.task_dict[handed.task_id]):
        if obj.__dict__.get("_log") is not None:
            obj._log = None
    # What BundleDagBag.__init__ does besides parsing, and the line it logs.
    if handed.bundle_path not in sys.path:
        sys.path.append(handed.bundle_path)
    bag.log.info("Filling up the DagBag from %s", handed.dag_folder)
    return bag


def _max_age() -> float:
    # As fresh as the scheduler's own view of a DAG: the dag-processor parses each file this often.
    from airflow.configuration import conf

    return conf.getfloat("dag_processor", "min_file_process_interval", fallback=30.0)


def _forget(key: tuple) -> None:
    parse = _parses.pop(key)
    for name in parse.modules:
        sys.modules.pop(name, None)


def _file_under(module, root: str) -> bool:
    path = getattr(module, "__file__", None)
    return bool(path) and os.path.realpath(path).startswith(root)


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class _NoExecutionApi:
    """Stands in for the task runner's supervisor comms while a pooled runner parses: a top-level call
    to the Execution API fails there as in any process without one, and is noted."""

    def __init__(self):
        self.used = False

    def send(self, *args, **kwargs):
        self.used = True
        raise RuntimeError("the Execution API is not reachable while a pooled runner parses a DAG file")

    def __getattr__(self, name):  # any other use of the comms (only for names not found above)
        self.__dict__["used"] = True
        raise AttributeError(f"the Execution API is not reachable while a pooled runner parses a DAG file ({name})")
