#!/usr/bin/env bash
# Differential test (not part of CI): runs the scenarios in
# tests/compat/differential/ against a real Temporal dev server (pinned CLI,
# see install_temporal_cli.sh) and against errand ($ERRAND_BIN or
# build/errand), and prints the differences. Both servers are started on free
# loopback ports with throw-away state and stopped at the end.
#
# Exit code: 0 when every difference is allow-listed
# (tests/compat/differential/allowlist.txt), 1 otherwise, 2 on setup failure.
# Extra arguments go to differential.py (e.g. --only complete,cancel -v).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"
PYTHON="$ERRAND_CACHE/venv/bin/python"
[ -x "$PYTHON" ] || { echo "missing $PYTHON (run scripts/setup.sh)" >&2; exit 2; }
ERRAND_BIN="${ERRAND_BIN:-$ROOT/build/errand}"
[ -x "$ERRAND_BIN" ] || { echo "errand binary not found at $ERRAND_BIN; build it or set ERRAND_BIN" >&2; exit 2; }
export ERRAND_BIN
TEMPORAL_CLI="$("$ROOT/scripts/install_temporal_cli.sh")"
exec "$PYTHON" "$ROOT/tests/compat/differential/differential.py" --temporal-cli "$TEMPORAL_CLI" "$@"
