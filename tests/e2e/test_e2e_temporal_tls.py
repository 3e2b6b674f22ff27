"""Temporal over mTLS, as Temporal Cloud and private clusters serve it: the worker JAR (`check`, with
temporal-envconfig's TEMPORAL_TLS_* variables) and the Python client (`airflow temporal check`, with
`[temporal] tls_*`) connect to a real Temporal server whose frontend requires TLS and a client
certificate, and both refuse, saying why, a server their CA did not sign.

`temporal server start-dev` has no TLS options, so this starts Temporal's own server binary (the
version the dev server embeds; `bash scripts/build-temporal-server.sh` builds it once, from the Go
module proxy) with SQLite in memory and `global.tls` in its config, on free loopback ports. The
certificates are made here: a CA, the server's (localhost, 127.0.0.1), a client's, and an unrelated CA.
The worker's checks also need Airflow's DB: a PostgreSQL of its own (stack.py's `start_database`).
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airflow_temporal_testing.stack import AT_CACHE, Stack, WorkerSpec, free_port, terminate

SERVER_VERSION = "1.32.0"
SERVER_BINARY = AT_CACHE / f"temporal-server-{SERVER_VERSION}" / "server"
NAMESPACE = "default"


# ------------------------------------------------------------------ certificates
def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, key, cert: x509.Certificate) -> tuple[Path, Path]:
    cert_path, key_path = path.with_suffix(".pem"), path.with_suffix(".key")
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def _certificate(subject: str, issuer_key, issuer_name: x509.Name | None, *, ca: bool = False,
                 usage: ExtendedKeyUsageOID | None = None, sans: list[x509.GeneralName] | None = None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(issuer_name or _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


class Certificates:
    def __init__(self, folder: Path):
        ca_key, ca = _certificate("airflow-temporal test CA", None, None, ca=True)
        self.ca, _ = _write(folder / "ca", ca_key, ca)
        other_key, other = _certificate("some other CA", None, None, ca=True)
        self.other_ca, _ = _write(folder / "other-ca", other_key, other)
        server_key, server = _certificate(
            "localhost", ca_key, ca.subject, usage=ExtendedKeyUsageOID.SERVER_AUTH,
            sans=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        self.server_cert, self.server_key = _write(folder / "server", server_key, server)
        client_key, client = _certificate("airflow-temporal worker", ca_key, ca.subject,
                                          usage=ExtendedKeyUsageOID.CLIENT_AUTH)
        self.client_cert, self.client_key = _write(folder / "client", client_key, client)


# ------------------------------------------------------------------ the server
def _server_config(certs: Certificates, ports: dict[str, int], folder: Path) -> dict:
    def sqlite(database: str) -> dict:
        return {"sql": {"pluginName": "sqlite", "databaseName": database, "connectAddr": "localhost",
                        "connectProtocol": "tcp", "connectAttributes": {"mode": "memory", "cache": "private"},
                        "maxConns": 1, "maxIdleConns": 1, "maxConnLifetime": "1h"}}

    def service(name: str) -> dict:
        rpc = {"grpcPort": ports[name], "membershipPort": ports[f"{name}-membership"], "bindOnLocalHost": True}
        if name == "frontend":
            rpc["httpPort"] = ports["frontend-http"]
        return {"rpc": rpc}

    client = {"serverName": "localhost", "rootCaFiles": [str(certs.ca)]}
    dynamic_config = folder / "dynamic-config.yaml"
    dynamic_config.write_text("{}\n")
    return {
        "log": {"stdout": True, "level": "warn"},
        "persistence": {"defaultStore": "default", "visibilityStore": "visibility", "numHistoryShards": 1,
                        "datastores": {"default": sqlite("default"), "visibility": sqlite("visibility")}},
        "global": {
            "membership": {"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"},
            "tls": {
                # The frontend (what clients and workers call) requires TLS and a client certificate
                # signed by the CA; the server's own services call it with the same client identity.
                "frontend": {"server": {"certFile": str(certs.server_cert), "keyFile": str(certs.server_key),
                                        "requireClientAuth": True, "clientCaFiles": [str(certs.ca)]},
                             "client": client},
                "systemWorker": {"certFile": str(certs.client_cert), "keyFile": str(certs.client_key),
                                 "client": client},
            },
        },
        "services": {name: service(name) for name in ("frontend", "matching", "history", "worker")},
        "clusterMetadata": {
            "enableGlobalNamespace": False, "failoverVersionIncrement": 10,
            "masterClusterName": "active", "currentClusterName": "active",
            "clusterInformation": {"active": {
                "enabled": True, "initialFailoverVersion": 1, "rpcName": "frontend",
                "rpcAddress": f"localhost:{ports['frontend']}", "httpAddress": f"localhost:{ports['frontend-http']}"}},
        },
        "dcRedirectionPolicy": {"policy": "noop"},
        "dynamicConfigClient": {"filepath": str(dynamic_config), "pollInterval": "10s"},
    }


def _cli_tls(certs: Certificates) -> list[str]:
    return ["--tls-ca-path", str(certs.ca), "--tls-cert-path", str(certs.client_cert),
            "--tls-key-path", str(certs.client_key), "--tls-server-name", "localhost"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_server(certs, tmp_path_factory):
    if not SERVER_BINARY.exists():
        pytest.skip(f"no Temporal server binary at {SERVER_BINARY}: run `bash scripts/build-temporal-server.sh` "
                    "(needs Go; the dev server of `temporal server start-dev` cannot serve TLS)")
    folder = tmp_path_factory.mktemp("temporal-tls")
    names = ["frontend", "frontend-http", "matching", "history", "worker"]
    ports = {name: free_port() for name in names}
    ports.update({f"{name}-membership": free_port() for name in ("frontend", "matching", "history", "worker")})
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump(_server_config(certs, ports, folder)))
    log = (folder / "server.log").open("w")
    server = subprocess.Popen([str(SERVER_BINARY), "--config-file", str(config), "--allow-no-auth", "start"],
                              stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{ports['frontend']}"
    temporal_cli = str(Path(sys.executable).parent / "temporal")
    try:
        # The namespace is created over mTLS by Temporal's own CLI: once that works, the server is up.
        deadline = time.monotonic() + 120
        while True:
            created = subprocess.run(
                [temporal_cli, "operator", "namespace", "create", "--namespace", NAMESPACE, "--address", address,
                 *_cli_tls(certs)], capture_output=True, text=True, timeout=30)
            if created.returncode == 0 or "already" in created.stderr.lower():
                break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the TLS Temporal server did not come up: {created.stderr}\n"
                            f"{(folder / 'server.log').read_text()[-3000:]}")
            time.sleep(2)
        yield address
    finally:
        terminate(server)
        log.close()


@pytest.fixture(scope="module")
def database_stack(tls_server):
    stack = Stack(name=os.environ.get("AT_E2E_STACK_NAME", "e2e") + "-tls-db", ports="free").start_database()
    try:
        yield stack
    finally:
        stack.stop()


# ------------------------------------------------------------------ the worker JAR
def _worker_check(stack: Stack, address: str, tls_env: dict[str, str]) -> subprocess.CompletedProcess:
    argv = stack.worker_argv(WorkerSpec())
    argv[argv.index("worker")] = "check"
    argv[argv.index("--address") + 1] = address
    env = {k: v for k, v in stack.airflow_env().items() if not k.startswith("TEMPORAL_")}
    return subprocess.run(argv, env={**env, **tls_env}, capture_output=True, text=True, timeout=180)


def _worker_tls_env(certs: Certificates, ca: Path) -> dict[str, str]:
    return {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(ca), "TEMPORAL_TLS_SERVER_NAME": "localhost",
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(certs.client_cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(certs.client_key)}


def test_the_worker_reaches_temporal_over_mtls_with_the_temporal_tls_variables(certs, tls_server, database_stack):
    result = _worker_check(database_stack, tls_server, _worker_tls_env(certs, certs.ca))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:2] == ["ready", "temporal: ok"], result.stdout


def test_the_worker_refuses_a_server_its_ca_did_not_sign_and_says_so(certs, tls_server, database_stack):
    result = _worker_check(database_stack, tls_server, _worker_tls_env(certs, certs.other_ca))
    assert result.returncode == 2, result.stdout + result.stderr
    # The reason is the server's certificate, and the fix the CA setting, not a generic outage.
    assert (f"cannot reach Temporal at {tls_server} (unable to find valid certification path to requested target): "
            "the server's TLS certificate is not signed by a CA this worker trusts: point "
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH") in result.stderr


def test_the_worker_without_a_client_certificate_is_refused_by_an_mtls_server(certs, tls_server, database_stack):
    result = _worker_check(database_stack, tls_server, {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca),
                                                        "TEMPORAL_TLS_SERVER_NAME": "localhost"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot reach Temporal at {tls_server}" in result.stderr
    assert "TLS and API key settings" in result.stderr


# ------------------------------------------------------------------ the Python client
def _airflow_check(address: str, tls: dict[str, str], home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "TEMPORAL_"))}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__TEMPORAL__ADDRESS": address, "AIRFLOW__TEMPORAL__NAMESPACE": NAMESPACE,
                "AIRFLOW__TEMPORAL__RPC_TIMEOUT": "10",
                **{f"AIRFLOW__TEMPORAL__{k.upper()}": v for k, v in tls.items()}})
    airflow = str(Path(sys.executable).parent / "airflow")
    return subprocess.run([airflow, "temporal", "check"], env=env, capture_output=True, text=True, timeout=180)


def _python_tls(certs: Certificates, ca: Path) -> dict[str, str]:
    return {"tls": "True", "tls_server_ca_cert_path": str(ca), "tls_server_name": "localhost",
            "tls_client_cert_path": str(certs.client_cert), "tls_client_key_path": str(certs.client_key)}


def test_the_airflow_side_reaches_temporal_over_mtls_with_its_tls_settings(certs, tls_server, tmp_path):
    result = _airflow_check(tls_server, _python_tls(certs, certs.ca), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Temporal at {tls_server}, namespace '{NAMESPACE}': reachable" in result.stdout


def test_the_airflow_side_refuses_a_server_its_ca_did_not_sign_and_says_so(certs, tls_server, tmp_path):
    result = _airflow_check(tls_server, _python_tls(certs, certs.other_ca), tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"cannot reach Temporal at {tls_server} (namespace '{NAMESPACE}')" in result.stderr
    assert "InvalidCertificate(UnknownIssuer)" in result.stderr
    assert ("The server's TLS certificate is not signed by a CA this client trusts: set [temporal] "
            "tls_server_ca_cert_path") in result.stderr
