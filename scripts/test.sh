#!/usr/bin/env bash
# Sets up a fresh machine, builds Errand and runs every test: the C++ unit and
# server tests (ctest), then the compatibility scenarios with the real
# TypeScript and Python SDKs against a real errand process.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"

"$ROOT/scripts/setup.sh" || exit 1
"$ROOT/scripts/build.sh" || exit 1

export ERRAND_BIN="$BUILD_DIR/errand"
failed_suites=()

echo "== C++ formatting"
"$ROOT/scripts/check_format.sh" || failed_suites+=(format)

echo "== C++ tests (ctest)"
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j2) || failed_suites+=(ctest)

echo "== Python SDK scenarios (pytest)"
(cd "$ROOT/tests/compat/python" && "$ERRAND_CACHE/venv/bin/python" -m pytest -q) || failed_suites+=(python)

echo "== TypeScript SDK scenarios (node --test)"
(cd "$ROOT/tests/compat/ts" && node --test --test-concurrency=1 ./*.test.mjs) || failed_suites+=(typescript)

if [ "${#failed_suites[@]}" -gt 0 ]; then
  echo "FAILED suites: ${failed_suites[*]}"
  exit 1
fi
echo "all suites passed"
