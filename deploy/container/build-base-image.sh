#!/usr/bin/env bash
# Builds the worker image's base without a container registry or engine: a Debian bookworm root
# file system (mmdebstrap, from the Debian mirror) with a JRE and Python, plus the Airflow
# environment the task runners need (/opt/airflow: apache-airflow==3.3.2, its PostgreSQL drivers and
# this repository's python-bridge, from PyPI), saved as a `docker save`-format tarball that Jib reads
# as its base (`tar://`). Then `mvn -B -Pcontainer -pl temporal-workflows -am package` adds the JAR.
#
#   bash deploy/container/build-base-image.sh [OUT.tar]    # default: deploy/container/target/base-image.tar
#
# Needs root (or mmdebstrap's unshare mode), mmdebstrap (apt-get install mmdebstrap) and python3;
# ~5 min and ~1 GB of downloads the first time.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="${1:-$HERE/target/base-image.tar}"
AIRFLOW_VERSION="3.3.2"
SUITE="bookworm"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

command -v mmdebstrap >/dev/null || { echo "build-base-image: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The bridge goes in as a wheel: the image must not depend on this checkout's path. Built from a
# copy, since setuptools leaves build/ in the source folder.
cp -r "$REPO/python-bridge" "$work/python-bridge"
rm -rf "$work/python-bridge/build" "$work/python-bridge"/*.egg-info
python3 -m pip wheel -q --no-deps --wheel-dir "$work/wheels" "$work/python-bridge"
bridge_wheel="$(basename "$work"/wheels/airflow_temporal-*.whl)"
# pip in the new root trusts what pip trusts here (a TLS-inspecting proxy's CA, say) for the install
# only: the bundle is removed after it and never part of the image.
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$work/build-host-ca.pem"

# Man pages are left out, but the JRE's post-install links one (update-alternatives): its folder must exist.
# uid 50000 is the apache/airflow image's user: volumes made for that image keep working.
mmdebstrap --variant=minbase \
    --include=openjdk-17-jre-headless,python3,python3-venv,ca-certificates,tzdata \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
    --customize-hook="copy-in $work/wheels/$bridge_wheel /tmp" \
    --customize-hook='chroot "$1" python3 -m venv /opt/airflow' \
    --customize-hook="copy-in $work/build-host-ca.pem /tmp" \
    --customize-hook="chroot \"\$1\" env -u PIP_FIND_LINKS -u SSL_CERT_DIR PIP_CERT=/tmp/build-host-ca.pem SSL_CERT_FILE=/tmp/build-host-ca.pem REQUESTS_CA_BUNDLE=/tmp/build-host-ca.pem /opt/airflow/bin/pip install --no-cache-dir -q apache-airflow==$AIRFLOW_VERSION psycopg2-binary asyncpg /tmp/$bridge_wheel" \
    --customize-hook="rm -f \"\$1/tmp/$bridge_wheel\" \"\$1/tmp/build-host-ca.pem\"" \
    --customize-hook='chroot "$1" useradd --uid 50000 --gid 0 --home-dir /opt/airflow/home --create-home airflow' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$work/rootfs.tar" "$MIRROR"

python3 "$HERE/rootfs_to_image.py" "$work/rootfs.tar" "$OUT" \
    --tag "airflow-temporal-base:airflow-$AIRFLOW_VERSION" \
    --env "PATH=/opt/airflow/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --env "AIRFLOW_HOME=/opt/airflow/home" --env "AIRFLOW_TEMPORAL_PYTHON=/opt/airflow/bin/python" \
    --user 50000:0 --workdir /opt/airflow/home
echo "build-base-image: $OUT" >&2
