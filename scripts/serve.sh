#!/usr/bin/env bash
# Sets up a fresh machine, builds Errand and runs it on its defaults:
# gRPC on 127.0.0.1:7233, data in ./errand-data. Extra arguments go to
# `errand serve` (for example --listen 0.0.0.0:7233).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
exec "${BUILD_DIR:-$ROOT/build}/errand" serve "$@"
