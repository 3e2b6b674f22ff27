"""deploy/kubernetes: probes on the paths and port the worker serves, a termination grace above the
worker's drain, secrets from a Secret as environment variables, a PodDisruptionBudget that selects
the Deployment's pods."""
from __future__ import annotations

import yaml
from deploy_files import DEPLOY, flag_values

MANIFESTS = DEPLOY / "kubernetes"
SECRET_VARIABLES = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "TEMPORAL_API_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"}


def _document(file: str, kind: str) -> dict:
    [doc] = [d for d in yaml.safe_load_all((MANIFESTS / file).read_text()) if d and d["kind"] == kind]
    return doc


def _deployment() -> dict:
    return _document("deployment.yaml", "Deployment")


def _worker() -> dict:
    [container] = _deployment()["spec"]["template"]["spec"]["containers"]
    return container


def _args() -> dict[str, str]:
    args = _worker()["args"]
    assert args[0] == "worker"
    return flag_values(args[1:])


def test_the_worker_arguments_are_flags_the_worker_has(worker_flags):
    assert set(_args()) <= worker_flags, set(_args()) - worker_flags


def test_the_probes_ask_the_worker_s_health_paths_on_its_metrics_port(worker_help):
    worker, args = _worker(), _args()
    [port] = [p for p in worker["ports"] if p["name"] == "metrics"]
    assert port["containerPort"] == int(args["--metrics-port"])
    # The kubelet probes from outside the pod's loopback.
    assert args["--metrics-host"] == "0.0.0.0"
    probes = {kind: worker[kind]["httpGet"] for kind in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert {kind: probe["port"] for kind, probe in probes.items()} == dict.fromkeys(probes, "metrics")
    assert probes["livenessProbe"]["path"] == probes["startupProbe"]["path"] == "/livez"
    assert probes["readinessProbe"]["path"] == "/readyz"
    # ... which are the paths the worker says it serves on --metrics-port.
    assert "/livez" in worker_help and "/readyz" in worker_help


def test_the_termination_grace_outlasts_the_worker_s_drain():
    grace = _deployment()["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(_args()["--shutdown-grace"])


def test_secrets_come_from_a_secret_as_environment_variables_never_arguments():
    env = {e["name"]: e for e in _worker()["env"]}
    for name in SECRET_VARIABLES:
        assert "value" not in env[name], name
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "airflow-temporal-worker"
    assert "--db-url" not in _args()
    secret = _document("secret.example.yaml", "Secret")
    referenced = {env[name]["valueFrom"]["secretKeyRef"]["key"] for name in SECRET_VARIABLES}
    assert referenced <= set(secret["stringData"])


def test_the_disruption_budget_covers_the_deployment_s_pods_one_at_a_time():
    pdb, deployment = _document("pdb.yaml", "PodDisruptionBudget"), _deployment()
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1


def test_the_kustomization_lists_the_manifests_but_not_the_example_secret():
    resources = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    assert sorted(resources) == ["deployment.yaml", "pdb.yaml"]
