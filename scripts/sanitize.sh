#!/usr/bin/env bash
# Sanitizer gate. `scripts/sanitize.sh asan` builds Errand with
# AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer
# (gcc; cmake -DERRAND_SANITIZE=address,undefined,float-cast-overflow) into
# its own build directory, then runs
#   1. every C++ test (ctest: the unit and in-process server tests and the
#      fuzz corpus replays), and
#   2. the Go SDK compatibility suite against the sanitized errand server.
# Any sanitizer report fails the run: reports abort the process that hit them
# (halt_on_error, -fno-sanitize-recover=all), and the stderr of every server
# the SDK suite starts is searched for reports afterwards, since a server that
# dies or leaks while its test passes would go unnoticed otherwise.
#
# ASAN_BUILD_DIR (default: <BUILD_DIR>-asan, BUILD_DIR defaulting to build) and
# JOBS (default: nproc) can be overridden. The generated Temporal API code is
# compiled with the flags of the plain build, so after scripts/build.sh those
# objects come from ccache; only Errand's own code is compiled again.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-}"
if [ "$MODE" != asan ]; then
  echo "usage: $0 asan" >&2
  exit 2
fi
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ASAN_BUILD_DIR="${ASAN_BUILD_DIR:-$BUILD_DIR-asan}"
JOBS="${JOBS:-$(nproc)}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1

start=$SECONDS
# Configured every time, so that a change of the sanitizer list reaches an
# existing build directory.
cmake -S "$ROOT" -B "$ASAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DERRAND_SANITIZE=address,undefined,float-cast-overflow >/dev/null || exit 1
cmake --build "$ASAN_BUILD_DIR" -- -j"$JOBS" || exit 1
echo "asan: built in $((SECONDS - start)) s ($ASAN_BUILD_DIR)"

# LeakSanitizer is on (detect_leaks) and needs no suppressions: gRPC's,
# protobuf's and RocksDB's process-lifetime allocations stay reachable.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
if command -v llvm-symbolizer >/dev/null; then
  export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
fi

failed=()

start=$SECONDS
# ctest shows a failing test's output, sanitizer report included.
(cd "$ASAN_BUILD_DIR" && ctest --output-on-failure --timeout 300 -j"$JOBS") ||
  failed+=(ctest)
echo "asan: C++ tests took $((SECONDS - start)) s"

# Every server the SDK suite starts runs through a wrapper that copies its
# stderr, where the sanitizers report, to REPORTS/errand.<pid>.log (the Go
# harness shows server output only for failing tests). Any report in those
# logs fails the step, even if the test that started the server passed: a
# leak, for one, is reported at exit, after the test has its answers.
# (log_path is no use here: gcc's UBSan runtime ignores it.)
start=$SECONDS
REPORTS="$ASAN_BUILD_DIR/sdk-server-logs"
rm -rf "$REPORTS"
mkdir -p "$REPORTS"
WRAPPER="$ASAN_BUILD_DIR/errand-logged"
cat >"$WRAPPER" <<EOF
#!/usr/bin/env bash
# exec keeps the pid, so the suite's signals reach errand itself.
exec "$ASAN_BUILD_DIR/errand" "\$@" 2> >(tee "$REPORTS/errand.\$\$.log" >&2)
EOF
chmod +x "$WRAPPER"
(cd "$ROOT/tests/compat/go" && ERRAND_BIN="$WRAPPER" go test -count=1 ./...) ||
  failed+=(go)
if ! compgen -G "$REPORTS/*.log" >/dev/null; then
  echo "asan: no server logs in $REPORTS: did the suite stop using ERRAND_BIN?"
  failed+=(go-server-reports)
fi
REPORT_PATTERN='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|Sanitizer:DEADLYSIGNAL'
if reports="$(grep -lE "$REPORT_PATTERN" "$REPORTS"/*.log)"; then
  # The first few: one bug is usually reported by every server it reaches.
  for f in $(head -3 <<<"$reports"); do
    echo "---- sanitizer report in $f ----"
    grep -E -A60 "$REPORT_PATTERN" "$f" | head -100
  done
  echo "asan: sanitizer reports in $(wc -l <<<"$reports") server logs under $REPORTS"
  failed+=(go-server-reports)
fi
echo "asan: Go SDK suite against the sanitized server took $((SECONDS - start)) s"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "asan: FAILED: ${failed[*]}"
  exit 1
fi
echo "asan: passed"
