"""Temporal over mTLS, as Temporal Cloud and private clusters serve it: the worker JAR (`check`, with
temporal-envconfig's TEMPORAL_TLS_* variables) and the Python client (`airflow temporal check`, with
`[temporal] tls_*`) connect to a Temporal frontend that requires TLS and a client certificate signed by a
private CA, and both refuse, saying why, a server their CA did not sign or a connection without their
client certificate.

`temporal server start-dev` cannot serve TLS, so TLS ends, as in many private deployments, at a proxy
in front of Temporal: nginx (Debian's, installed by bootstrap) checks the client certificate against the
CA and passes the gRPC calls to the dev server on loopback. The certificates are made here: a CA, the
server's (localhost, 127.0.0.1), a client's, and an unrelated CA. The worker's checks also need Airflow's
DB: a PostgreSQL of its own (stack.py's `start_database`), beside the dev server.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from airflow_temporal_testing.stack import Stack, WorkerSpec, free_port, terminate, wait_until

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


# ------------------------------------------------------------------ the TLS frontend
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _nginx_config(certs: Certificates, port: int, temporal_port: int, folder: Path) -> str:
    # ssl_verify_client on: a connection without a certificate the CA signed gets nginx's 496/495,
    # answered here as gRPC's UNAUTHENTICATED (what a gRPC client can read) instead of an HTML page.
    # grpc_read_timeout outlasts Temporal's long polls (up to 70 s) for workers behind it.
    return f"""
pid {folder}/nginx.pid;
events {{}}
http {{
    access_log off;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {certs.server_cert};
        ssl_certificate_key {certs.server_key};
        ssl_client_certificate {certs.ca};
        ssl_verify_client on;
        error_page 495 496 = @no_client_certificate;
        location / {{
            grpc_pass grpc://127.0.0.1:{temporal_port};
            grpc_read_timeout 90s;
        }}
        location @no_client_certificate {{
            default_type application/grpc;
            add_header grpc-status 16 always;
            add_header grpc-message "this server requires a client certificate signed by its CA" always;
            return 204;
        }}
    }}
}}
"""


def _cli_tls(certs: Certificates) -> list[str]:
    return ["--tls-ca-path", str(certs.ca), "--tls-cert-path", str(certs.client_cert),
            "--tls-key-path", str(certs.client_key), "--tls-server-name", "localhost"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def stack():
    """PostgreSQL with Airflow's schema (the worker's check needs the DB) and the Temporal dev server."""
    stack = Stack(name=os.environ.get("AT_E2E_STACK_NAME", "e2e") + "-tls", ports="free")
    stack.start_database()
    try:
        yield stack.start_temporal()
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def tls_server(certs, stack, tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.fail(f"nginx is missing ({NGINX}): the TLS frontend of this test; `bash scripts/bootstrap.sh` "
                    "installs it with AT_TEST_TOOLS=1 (apt-get install nginx-light)")
    folder = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(_nginx_config(certs, port, stack.temporal_port, folder))
    log = folder / "error.log"
    proxy = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(config), "-e", str(log), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    temporal_cli = str(Path(sys.executable).parent / "temporal")

    def reachable_over_mtls() -> bool:
        if proxy.poll() is not None:
            pytest.fail(f"nginx exited {proxy.returncode}: {log.read_text()[-3000:]}")
        return subprocess.run([temporal_cli, "operator", "namespace", "describe", "--namespace", NAMESPACE,
                               "--address", address, *_cli_tls(certs)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30).returncode == 0

    try:
        # Temporal's own CLI, with the client certificate, through the proxy: the chain is up.
        wait_until(reachable_over_mtls, 60, "Temporal through the mTLS proxy",
                   on_timeout=lambda: log.read_text()[-3000:])
        yield address
    finally:
        terminate(proxy)


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


def test_the_worker_reaches_temporal_over_mtls_with_the_temporal_tls_variables(certs, tls_server, stack):
    result = _worker_check(stack, tls_server, _worker_tls_env(certs, certs.ca))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:2] == ["ready", "temporal: ok"], result.stdout


def test_the_worker_refuses_a_server_its_ca_did_not_sign_and_says_so(certs, tls_server, stack):
    result = _worker_check(stack, tls_server, _worker_tls_env(certs, certs.other_ca))
    assert result.returncode == 2, result.stdout + result.stderr
    # The reason is the server's certificate, and the fix the CA setting, not a generic outage.
    assert (f"cannot reach Temporal at {tls_server} (unable to find valid certification path to requested target): "
            "the server's TLS certificate is not signed by a CA this worker trusts: point "
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH") in result.stderr


def test_the_worker_without_a_client_certificate_is_refused_by_an_mtls_server(certs, tls_server, stack):
    result = _worker_check(stack, tls_server, {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(certs.ca),
                                                        "TEMPORAL_TLS_SERVER_NAME": "localhost"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot reach Temporal at {tls_server}" in result.stderr
    assert "requires a client certificate" in result.stderr  # the proxy's answer, passed on
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


def test_the_airflow_side_without_a_client_certificate_is_refused_by_an_mtls_server(certs, tls_server, tmp_path):
    tls = {k: v for k, v in _python_tls(certs, certs.ca).items() if not k.startswith("tls_client_")}
    result = _airflow_check(tls_server, tls, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"cannot reach Temporal at {tls_server} (namespace '{NAMESPACE}')" in result.stderr
    assert "requires a client certificate" in result.stderr
    assert "Check [temporal] address / tls / api_key" in result.stderr
