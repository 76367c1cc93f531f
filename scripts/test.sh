#!/usr/bin/env bash
# Sets up a fresh machine, builds Errand and runs every test: the C++ unit and
# server tests (ctest), then the compatibility scenarios with the real
# TypeScript, Python, Go and Java SDKs and the Temporal CLI against a real errand
# process, and regenerates the compatibility matrix from their reports.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"

# The whole run needs about 6 GB of disk: the build trees (release, ASan,
# TSan), the compiler cache and the SDKs' caches. Say so up front when the
# disk is short, so a run that dies of ENOSPC is recognised at once.
free_kb="$(df -Pk "$ROOT" 2>/dev/null | awk 'NR == 2 { print $4 }')"
free_kb="${free_kb:-0}"
echo "== Disk: $((free_kb / 1024 / 1024)) GB free under $ROOT"
if [ "$free_kb" -lt $((8 * 1024 * 1024)) ]; then
  echo "WARNING: less than 8 GB free; the sanitizer builds may fail with 'No space left on device'"
fi

# In CI a sanitizer build tree is used once: its objects and archives are
# removed once its suite has run, which keeps the run's peak disk use down.
reclaim_build_tree() {
  if [ -n "${CI:-}" ] && [ -d "$1" ]; then
    find "$1" \( -name '*.o' -o -name '*.a' \) -delete 2>/dev/null || true
  fi
}

"$ROOT/scripts/setup.sh" --tests || exit 1
"$ROOT/scripts/build.sh" || exit 1

export ERRAND_BIN="$BUILD_DIR/errand"
failed_suites=()

echo "== C++ formatting"
"$ROOT/scripts/check_format.sh" || failed_suites+=(format)

echo "== C++ thread-safety analysis (clang -Wthread-safety)"
BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/check_thread_safety.sh" || failed_suites+=(thread-safety)

echo "== C++ tests (ctest)"
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j2) || failed_suites+=(ctest)

# libFuzzer runs of the targets in tests/fuzz (ctest above replays their
# corpora); scripts/fuzz.sh builds them with clang-14 from scripts/setup.sh.
FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
echo "== Fuzzing (libFuzzer, $FUZZ_SECONDS s per target)"
if command -v clang++-14 >/dev/null; then
  FUZZ_SECONDS="$FUZZ_SECONDS" BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/fuzz.sh" ||
    failed_suites+=(fuzz)
else
  echo "SKIPPED: clang++-14 is not installed (scripts/setup.sh --tests installs it)"
fi

# ASan+UBSan build of Errand's code in <BUILD_DIR>-asan: every C++ test, then
# the Go SDK suite against the sanitized server (scripts/sanitize.sh).
echo "== ASan+UBSan (C++ tests, Go SDK suite)"
BUILD_DIR="$BUILD_DIR" "$ROOT/scripts/sanitize.sh" asan || failed_suites+=(asan)
reclaim_build_tree "$BUILD_DIR-asan"

# ThreadSanitizer over the engine, matcher and in-process server tests, in
# its own clang build (build-tsan) with Abseil's locks rebuilt under TSan
# (cached in $ERRAND_CACHE/absl-tsan); see scripts/tsan.sh.
echo "== TSan (engine, matcher, server, batch tests)"
ERRAND_CACHE="$ERRAND_CACHE" "$ROOT/scripts/tsan.sh" 2>&1 | tee "$BUILD_DIR/tsan-run.log" ||
  failed_suites+=(tsan)
reclaim_build_tree "$ROOT/build-tsan"

# Each client suite writes a report; scripts/compat_matrix.py joins them into
# the matrix in docs/compatibility.md.
RESULTS="${COMPAT_RESULTS:-$BUILD_DIR/compat-results}"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/python.xml "$RESULTS"/ts.xml "$RESULTS"/go.json "$RESULTS"/cli.xml
rm -rf "$RESULTS"/java
export TEMPORAL_CLI="$("$ROOT/scripts/install_temporal_cli.sh")"

echo "== Python SDK scenarios (pytest)"
# pytest inherits this environment: with CI set (.ci/run sets it), the
# real full-disk test fails rather than skips when it cannot mount its tmpfs.
(cd "$ROOT/tests/compat/python" &&
  "$ERRAND_CACHE/venv/bin/python" -m pytest -q --junitxml="$RESULTS/python.xml") ||
  failed_suites+=(python)

echo "== TypeScript SDK scenarios (node --test)"
# The web UI's browser test (ui.test.mjs) puts its screenshots in
# $RESULTS/ui-screenshots.
(cd "$ROOT/tests/compat/ts" && COMPAT_RESULTS="$RESULTS" node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$RESULTS/ts.xml" \
  ./*.test.mjs) || failed_suites+=(typescript)

echo "== Go SDK scenarios (go test)"
# -json for the matrix; the filter prints the usual test output meanwhile.
(cd "$ROOT/tests/compat/go" && go test -count=1 -json ./... | tee "$RESULTS/go.json" |
  python3 -u -c 'import json, sys
for line in sys.stdin:
    if line.startswith("{"):
        sys.stdout.write(json.loads(line).get("Output", ""))') ||
  failed_suites+=(go)

echo "== Java SDK scenarios (Maven)"
# One JVM for the whole suite (pom.xml); dependencies come from ~/.m2, filled
# by setup.sh. Surefire writes one TEST-<class>.xml per test class: the matrix
# reads them from $RESULTS/java/.
JAVA_DIR="$ROOT/tests/compat/java"
rm -rf "$JAVA_DIR/target/surefire-reports"
java_rc=0
# Debian's Maven 3.8 prints stray colour resets even in batch mode: dropped.
(cd "$JAVA_DIR" && mvn -B -q -Dstyle.color=never test) 2>&1 | sed 's/\x1b\[[0-9;]*m//g' ||
  java_rc=$?
mkdir -p "$RESULTS/java"
cp "$JAVA_DIR"/target/surefire-reports/TEST-*.xml "$RESULTS/java/" 2>/dev/null || true
python3 - "$RESULTS/java" <<'PY'
import pathlib, sys, xml.etree.ElementTree as ET
counts = {"passed": 0, "failed": 0, "skipped": 0}
for f in sorted(pathlib.Path(sys.argv[1]).glob("TEST-*.xml")):
    for case in ET.parse(f).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            counts["failed"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
print("Java SDK suite: {passed} passed, {failed} failed, {skipped} skipped".format(**counts))
PY
[ "$java_rc" -eq 0 ] || failed_suites+=(java)

echo "== Temporal CLI scenarios (pytest)"
(cd "$ROOT/tests/compat/cli" &&
  "$ERRAND_CACHE/venv/bin/python" -m pytest -q --junitxml="$RESULTS/cli.xml") ||
  failed_suites+=(cli)

echo "== Compatibility matrix"
python3 "$ROOT/scripts/compat_matrix.py" --results "$RESULTS" \
  --out "$ROOT/docs/compatibility.md" || failed_suites+=(matrix)

if [ "${#failed_suites[@]}" -gt 0 ]; then
  # Why tsan failed, again at the end: CI keeps only the tail of a run.
  if [[ " ${failed_suites[*]} " == *" tsan "* ]]; then
    echo "== Why tsan failed"
    tail -n 12 "$BUILD_DIR/tsan-run.log"
    cat "$ROOT/build-tsan/failure-summary.txt" 2>/dev/null || true
  fi
  echo "FAILED suites: ${failed_suites[*]}"
  exit 1
fi
echo "all suites passed"
