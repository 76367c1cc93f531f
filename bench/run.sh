#!/usr/bin/env bash
# One command for the side-by-side benchmark suite: installs what the peers
# need (Debian's redis-server, BullMQ, the Go SDK workload, the pinned
# Temporal CLI), builds Errand and the load generator, then runs
# bench/compare.py, which prints the table. Arguments go to compare.py, e.g.
#   bench/run.sh --quick
#   bench/run.sh --only throughput,latency --markdown /tmp/table.md
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

"$ROOT/scripts/setup.sh"
if ! command -v redis-server >/dev/null 2>&1; then
  echo "[bench] installing redis-server" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends redis-server
fi
(cd "$ROOT/bench/bullmq" && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error)
(cd "$ROOT/bench/gosdk" && go build -o bin/ .)
"$ROOT/scripts/install_temporal_cli.sh" >/dev/null
"$ROOT/scripts/build.sh"
exec python3 "$ROOT/bench/compare.py" "$@"
