#!/usr/bin/env bash
# One command for the side-by-side benchmark suite: installs what the peers
# need (Debian's redis-server, BullMQ, the Go SDK workload, the pinned
# Temporal CLI, and for the temporal-pg peer Debian's PostgreSQL 15 and
# Temporal's server built from its Go module), builds Errand and the load
# generator, then runs bench/compare.py, which prints the table. Arguments go
# to compare.py, e.g.
#   bench/run.sh --quick
#   bench/run.sh --only throughput,latency --markdown /tmp/table.md
#   bench/run.sh --quick --peers errand,temporal-pg
# BENCH_NO_BUILD=1 skips building Errand (use the binaries already in
# BUILD_DIR).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

"$ROOT/scripts/setup.sh"
peers="errand,temporal,temporal-pg,bullmq"
prev=""
for arg in "$@"; do
  case "$arg" in --peers=*) peers="${arg#--peers=}" ;; --skip-peers) peers=errand ;; esac
  [ "$prev" = "--peers" ] && peers="$arg"
  prev="$arg"
done
if [[ ",$peers," == *",bullmq,"* ]]; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "[bench] installing redis-server" >&2
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends redis-server
  fi
  (cd "$ROOT/bench/bullmq" && [ -d node_modules ] || npm install --no-audit --no-fund --loglevel=error)
fi
(cd "$ROOT/bench/gosdk" && go build -o bin/ .)
"$ROOT/scripts/install_temporal_cli.sh" >/dev/null
if [[ ",$peers," == *",temporal-pg,"* ]]; then
  if [ ! -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
    echo "[bench] installing postgresql-15" >&2
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends postgresql-15
  fi
  # Temporal's server and SQL tool, built once into ~/.cache/errand.
  "$ROOT/bench/temporal-postgres/build.sh" >/dev/null
fi
[ -n "${BENCH_NO_BUILD:-}" ] || "$ROOT/scripts/build.sh"
exec python3 "$ROOT/bench/compare.py" "$@"
