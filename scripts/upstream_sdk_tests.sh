#!/usr/bin/env bash
# The Temporal SDKs' own standalone-activity tests, run against errand: a
# yardstick, not a CI gate (see docs/compatibility.md, "The SDKs' own tests").
# Their sources are fetched at run time into $ERRAND_CACHE/upstream-tests and
# never committed.
#
#   scripts/upstream_sdk_tests.sh [--core] [--python] [--go]
#       [--clone | --python-src DIR --go-src DIR] [--oracle | --address HOST:PORT]
#
# The Core SDK tests come from the temporalio sdist on PyPI; package
# registries do not carry the Python and Go SDKs' tests, so those come from
# checkouts (--python-src, --go-src) or shallow clones (--clone).
# With no suite named, every suite runs whose source is available. By default
# a real errand ($ERRAND_BIN or build/errand) is started on a free loopback
# port with throw-away data; --oracle starts the pinned Temporal dev server
# instead; --address uses a server that is already running.
# Exit code: 0 all passed, 1 a test failed, 2 set-up failure or nothing ran.
# More options: tests/upstream/upstream_sdk_tests.py --help.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"
export ERRAND_CACHE
PYTHON="$ERRAND_CACHE/venv/bin/python"
[ -x "$PYTHON" ] || { echo "missing $PYTHON (run scripts/setup.sh)" >&2; exit 2; }
EXTRA=()
for a in "$@"; do
  if [ "$a" = "--oracle" ]; then
    EXTRA=(--temporal-cli "$("$ROOT/scripts/install_temporal_cli.sh")")
  fi
done
exec "$PYTHON" "$ROOT/tests/upstream/upstream_sdk_tests.py" "${EXTRA[@]}" "$@"
