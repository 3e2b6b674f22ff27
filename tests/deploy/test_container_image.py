"""The worker's container image (`mvn -Pcontainer`, Jib's buildTar on deploy/container's base): its
entrypoint runs the worker, and its layers hold the JRE, the JAR's classes and the Airflow
environment the runners need. Read from the tarball itself (manifest, config, layer listings); as
root, the image's own Java and Python are also run in a chroot of its layers.

Skipped when the tarball was not built (it needs root and mmdebstrap: docs/operations.md#container-image),
and the chroot test when not root; AT_REQUIRE_CONTAINER_IMAGE=1 (scripts/test, which builds the image)
makes either a failure.
"""
from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from deploy_files import REPO

IMAGE = REPO / "temporal-workflows" / "target" / "airflow-temporal-worker-image.tar"
MAIN_CLASS = "dev.airflowtemporal.workflows.worker.WorkerMain"
VENV_SITE = "opt/airflow/lib/python3.11/site-packages"


def _unavailable(message: str) -> None:
    if os.environ.get("AT_REQUIRE_CONTAINER_IMAGE") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def image() -> Path:
    if not IMAGE.exists():
        _unavailable(f"{IMAGE} was not built: bash deploy/container/build-base-image.sh, then "
                     "mvn -B -Pcontainer -pl temporal-workflows -am package -DskipTests")
    return IMAGE


def _manifest(archive: tarfile.TarFile) -> dict:
    [entry] = json.load(archive.extractfile("manifest.json"))
    return entry


@pytest.fixture(scope="module")
def manifest_and_config(image) -> tuple[dict, dict]:
    with tarfile.open(image) as archive:
        manifest = _manifest(archive)
        return manifest, json.load(archive.extractfile(manifest["Config"]))


@pytest.fixture(scope="module")
def layer_files(image, manifest_and_config) -> list[set[str]]:
    """Each layer's paths, without a leading ./ or /."""
    manifest, _ = manifest_and_config
    listings = []
    with tarfile.open(image) as archive:
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(layer), mode="r:*") as contents:
                listings.append({m.name.lstrip("./") for m in contents})
    return listings


def test_the_entrypoint_runs_the_worker_main_class_with_worker_as_default_command(manifest_and_config):
    manifest, config = manifest_and_config
    assert manifest["RepoTags"] == ["airflow-temporal-worker:0.1.0-SNAPSHOT"]
    container = config["config"]
    assert container["Entrypoint"][0] == "java"
    assert MAIN_CLASS in container["Entrypoint"]
    assert container["Cmd"] == ["worker"]


def test_the_image_serves_health_on_all_interfaces_as_the_airflow_user(manifest_and_config):
    _, config = manifest_and_config
    container = config["config"]
    env = dict(variable.split("=", 1) for variable in container["Env"])
    assert env["AIRFLOW__TEMPORAL__METRICS_PORT"] == "9464"
    assert env["AIRFLOW__TEMPORAL__METRICS_HOST"] == "0.0.0.0"
    assert list(container["ExposedPorts"]) == ["9464/tcp"]
    # From the base: the runners' interpreter is the image's Airflow environment.
    assert env["AIRFLOW_TEMPORAL_PYTHON"] == "/opt/airflow/bin/python"
    assert env["PATH"].split(":")[0] == "/opt/airflow/bin"
    assert container["User"] == "50000:0"


def test_the_layers_hold_the_jre_the_worker_and_the_airflow_environment(layer_files):
    every_file = set().union(*layer_files)
    expected = {
        "usr/bin/java",                                                   # the entrypoint's `java` (alternatives link)
        "usr/lib/jvm/java-17-openjdk-amd64/bin/java",
        "usr/bin/python3.11",
        "opt/airflow/bin/python",
        f"{VENV_SITE}/airflow/__init__.py",
        f"{VENV_SITE}/apache_airflow-3.3.2.dist-info/METADATA",
        f"{VENV_SITE}/airflow_temporal/worker/task_runner.py",
        f"{VENV_SITE}/airflow_temporal/worker/runner_server.py",
        "app/classes/dev/airflowtemporal/workflows/worker/WorkerMain.class",
        "app/jib-classpath-file",
    }
    assert expected - every_file == set()
    assert any(name.startswith("app/libs/temporal-sdk-") for name in every_file)
    # The build host's CA bundle (its pip's trust, for a TLS-inspecting proxy) was for the build only.
    assert "tmp/build-host-ca.pem" not in every_file
    # Jib's own layers sit on the base's one: a release rebuilds only the small ones on top.
    assert len(layer_files) >= 2 and "usr/bin/java" in layer_files[0]


def test_the_image_s_java_runs_the_worker_and_its_python_imports_airflow_and_the_bridge(
        image, manifest_and_config, tmp_path):
    if os.geteuid() != 0:
        _unavailable("running the image's programs needs chroot and unshare (root)")
    manifest, config = manifest_and_config
    root = tmp_path / "rootfs"
    root.mkdir()
    with tarfile.open(image) as archive:
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(layer), mode="r:*") as contents:
                contents.extractall(root, filter="tar")
    env = {**dict(v.split("=", 1) for v in config["config"]["Env"]), "HOME": "/tmp"}
    (root / "tmp").mkdir(exist_ok=True)
    (root / "proc").mkdir(exist_ok=True)
    # A container has /proc (the JRE's launcher finds its libraries through /proc/self/exe): a
    # private mount of it, gone with the process.
    chroot = ["unshare", "--mount", "--pid", "--fork", f"--mount-proc={root / 'proc'}", "chroot", str(root)]
    python = subprocess.run(
        [*chroot, "/opt/airflow/bin/python", "-c",
         "import airflow, airflow_temporal.worker.task_runner; print(airflow.__version__)"],
        env=env, capture_output=True, text=True, timeout=300)
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip() == "3.3.2"
    worker = subprocess.run([*chroot, *config["config"]["Entrypoint"], "worker", "--help"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert "--shutdown-grace" in worker.stdout
