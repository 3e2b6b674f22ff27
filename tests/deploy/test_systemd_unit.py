"""deploy/systemd: the unit starts the worker with flags it has, keeps secrets off the command line,
and gives a stopping worker its whole drain before systemd kills anything."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess

import pytest
from deploy_files import DEPLOY, flag_values

UNIT = DEPLOY / "systemd" / "airflow-temporal-worker.service"
ENV_EXAMPLE = DEPLOY / "systemd" / "worker.env.example"
# Options that carry a credential, or variables that hold one: never on a command line.
SECRET_FLAGS = {"--db-url"}
SECRET_VARIABLES = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "TEMPORAL_API_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
                    "AIRFLOW__TEMPORAL__CODEC_KEY", "TEMPORAL_TLS_CLIENT_KEY_DATA"}


def _unit() -> configparser.ConfigParser:
    # systemd's syntax is INI-like enough: `\` continuation lines are joined first.
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read_string(UNIT.read_text().replace("\\\n", " "))
    return parser


def _env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k: v for k, v in pairs}


def _exec_start() -> list[str]:
    return shlex.split(_unit()["Service"]["ExecStart"])


def _expanded(arg: str, env: dict[str, str]) -> str:
    for name, value in env.items():
        arg = arg.replace("${" + name + "}", value)
    return arg


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit():
    result = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    # verify also complains about what this host lacks (the airflow user, the env file): only
    # complaints about the unit's own syntax count.
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if "Unknown key" in line or "Failed to parse" in line or "Invalid" in line or "Missing" in line]
    assert problems == [], result.stderr


def test_the_unit_starts_the_worker_with_flags_the_worker_has(worker_flags):
    argv = _exec_start()
    assert argv[1:4] == ["-jar", "/opt/airflow-temporal/airflow-temporal-worker.jar", "worker"]
    flags = flag_values(argv[4:])
    assert flags and set(flags) <= worker_flags, set(flags) - worker_flags


def test_every_variable_the_unit_expands_is_in_the_example_environment_file():
    env = _env_example()
    for arg in _exec_start():
        assert "$" not in _expanded(arg, env), f"{arg} names a variable {ENV_EXAMPLE.name} does not set"


def test_no_secret_reaches_the_command_line():
    argv = _exec_start()
    assert not SECRET_FLAGS & set(flag_values(argv)), argv
    assert not any(name in arg for arg in argv for name in SECRET_VARIABLES), argv
    assert _unit()["Service"]["EnvironmentFile"].startswith("/etc/")


def test_stopping_signals_only_the_worker_and_waits_longer_than_its_drain():
    service = _unit()["Service"]
    # mixed: SIGTERM to the JVM alone (the drain), SIGKILL to the whole cgroup only at the timeout.
    assert service["KillMode"] == "mixed"
    grace = int(flag_values([_expanded(a, _env_example()) for a in _exec_start()])["--shutdown-grace"])
    assert int(service["TimeoutStopSec"]) > grace
    # Exit 2 is bad configuration: restarting would loop on it.
    assert "2" in service["RestartPreventExitStatus"].split()
