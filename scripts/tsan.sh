#!/usr/bin/env bash
# ThreadSanitizer run of the engine, matcher and in-process server tests
# (every suite in tests/engine, tests/matching and tests/server).
#
# Debian's Abseil, gRPC, protobuf and RocksDB are not built with TSan, so the
# happens-before edges made by absl::Mutex (which gRPC's gpr_mu and
# grpc_core::Mutex wrap too) would be invisible and TSan would report
# thousands of false races. So this script:
#  1. rebuilds Abseil's lock libraries from Debian's own source package (the
#     version installed, with Debian's patches and its absl::debian3
#     namespace) as TSan-instrumented shared libraries with the same sonames,
#     once, into $ERRAND_CACHE/absl-tsan/<version>; the tests load them in
#     place of Debian's (LD_LIBRARY_PATH), so gRPC's locks are seen too;
#  2. builds errand_unit_tests with clang-14 -fsanitize=thread into
#     TSAN_BUILD_DIR (default build-tsan), and a canary (tests/tsan/canary.cc)
#     that proves the swap works: writes guarded by absl::Mutex or gpr_mu must
#     be silent, an unguarded one must be reported;
#  3. runs the suites with ignore_noninstrumented_modules=1, so memory
#     accesses that the uninstrumented libraries make through intercepted
#     calls (memcpy, free, sendmsg in gRPC; memcpy in RocksDB's write group,
#     which copies one thread's batch on another) are not checked: those
#     libraries hand data between threads with atomics TSan cannot see. Their
#     locks (pthread, absl) still count, and all of Errand's code is checked.
# There is no suppression file: any report fails the run and is a bug.
#
# TSAN_FILTER overrides the gtest filter; TSAN_JOBS (default 2) the build jobs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"
TSAN_BUILD_DIR="${TSAN_BUILD_DIR:-$ROOT/build-tsan}"
TSAN_JOBS="${TSAN_JOBS:-2}"
CLANGXX="${CLANGXX:-clang++-14}"
TSAN_FLAGS="-fsanitize=thread -O1 -gline-tables-only"

log() { printf '[tsan] %s\n' "$*" >&2; }
mkdir -p "$TSAN_BUILD_DIR"
rm -f "$TSAN_BUILD_DIR/failure-summary.txt"
if ! command -v "$CLANGXX" >/dev/null; then
  log "$CLANGXX not found (scripts/setup.sh --tests installs clang-14)"
  exit 1
fi

# --- 1. Abseil with TSan, from Debian's source package ----------------------
# Only the libraries that implement locks and waiting (absl::Mutex, CondVar,
# Notification, SpinLock, call_once) are swapped, and those that inline
# SpinLock's fast path: absl::Now() (time) and LowLevelAlloc
# (malloc_internal). An uninstrumented inline lock whose contended path ends
# in the instrumented SpinLock::SlowLock unbalances TSan's annotations and
# aborts the run (CHECK failed: "((thr->ignore_sync)) > ((0))"), but only
# when that lock is contended, which made the suite fail now and then. The rest of Abseil (Status,
# Cord, containers) stays Debian's, uninstrumented, like gRPC, protobuf and
# RocksDB that hand its objects between threads by means TSan cannot see.
ABSL_TSAN_LIBS=(synchronization base spinlock_wait time malloc_internal)
ABSL_VERSION="$(dpkg-query -W -f='${Version}' libabsl-dev)"
ABSL_DIR="$ERRAND_CACHE/absl-tsan/$ABSL_VERSION"
if [ "$(cat "$ABSL_DIR/.complete" 2>/dev/null)" != "${ABSL_TSAN_LIBS[*]}" ]; then
  start=$SECONDS
  log "building Abseil $ABSL_VERSION with TSan into $ABSL_DIR (once)"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # A private apt configuration with deb-src twins of the machine's own
  # Debian entries (deb822 or one-line), so the system's apt setup is left as
  # it is.
  mkdir -p "$work/apt/parts" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
  for f in /etc/apt/sources.list.d/*.sources; do
    if [ -f "$f" ]; then sed 's/^Types: deb$/Types: deb-src/' "$f" && echo; fi
  done >"$work/apt/parts/src.sources"
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
    sed -n 's/^deb /deb-src /p' >"$work/apt/parts/src.list"
  apt_opts=(-q -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$work/apt/parts"
    -o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache"
    -o APT::Sandbox::User=root)
  if ! (apt-get "${apt_opts[@]}" update && cd "$work/src" &&
    apt-get "${apt_opts[@]}" source "abseil=$ABSL_VERSION") >"$work/source.log" 2>&1; then
    cat "$work/source.log" >&2
    log "could not fetch Debian's abseil $ABSL_VERSION source package"
    exit 1
  fi
  src="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'abseil-*')"
  # The options of Debian's shared build (debian/rules), with TSan.
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_COMPILER="$CLANGXX" -DCMAKE_CXX_FLAGS="$TSAN_FLAGS" \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
    -DCMAKE_INSTALL_PREFIX="$work/install" -DCMAKE_INSTALL_LIBDIR=lib \
    -DABSL_PROPAGATE_CXX_STD=ON >/dev/null
  cmake --build "$work/build" --target "${ABSL_TSAN_LIBS[@]}" -- -j"$TSAN_JOBS" >/dev/null
  rm -rf "$ABSL_DIR"
  mkdir -p "$ABSL_DIR"
  for lib in "${ABSL_TSAN_LIBS[@]}"; do
    cp -a "$work/build/absl/"*/"libabsl_$lib.so"* "$ABSL_DIR/"
  done
  echo "${ABSL_TSAN_LIBS[*]}" >"$ABSL_DIR/.complete"
  log "Abseil built in $((SECONDS - start)) s"
fi

# --- 2. The tests, built with TSan -------------------------------------------
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$ROOT"
export CCACHE_NOHASHDIR=1
if [ ! -f "$TSAN_BUILD_DIR/build.ninja" ]; then
  cmake -S "$ROOT" -B "$TSAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_COMPILER="$CLANGXX" -DCMAKE_CXX_FLAGS="$TSAN_FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
fi
start=$SECONDS
if ! cmake --build "$TSAN_BUILD_DIR" --target errand_unit_tests -- -j"$TSAN_JOBS" \
  >"$TSAN_BUILD_DIR/build.log" 2>&1; then
  grep -E 'error|FAILED' "$TSAN_BUILD_DIR/build.log" | head -20 >&2
  log "the TSan build failed; see $TSAN_BUILD_DIR/build.log"
  exit 1
fi
"$CLANGXX" $TSAN_FLAGS "$ROOT/tests/tsan/canary.cc" -o "$TSAN_BUILD_DIR/errand_tsan_canary" \
  -lgpr -labsl_synchronization
log "tests built in $((SECONDS - start)) s"

# --- 3. Run -------------------------------------------------------------------
export LD_LIBRARY_PATH="$ABSL_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# exitcode: a report fails the run even when every test passed.
export TSAN_OPTIONS="ignore_noninstrumented_modules=1 exitcode=66 halt_on_error=0 second_deadlock_stack=1 history_size=4 ${TSAN_OPTIONS:-}"

# The setup itself first: locks must be seen, an unguarded write reported.
for mode in absl gpr; do
  if ! "$TSAN_BUILD_DIR/errand_tsan_canary" "$mode" >"$TSAN_BUILD_DIR/canary-$mode.log" 2>&1; then
    log "TSan reported a race under $mode locking: Abseil's locks are not instrumented"
    log "(is $ABSL_DIR loaded? see $TSAN_BUILD_DIR/canary-$mode.log)"
    exit 1
  fi
done
if "$TSAN_BUILD_DIR/errand_tsan_canary" none >"$TSAN_BUILD_DIR/canary-none.log" 2>&1 ||
  ! grep -q 'WARNING: ThreadSanitizer: data race' "$TSAN_BUILD_DIR/canary-none.log"; then
  log "TSan did not report an unguarded write: the setup is broken"
  exit 1
fi
log "canary: absl::Mutex and gpr_mu are seen, an unguarded write is reported"

suites="$(cd "$ROOT/tests" && grep -ho '^TEST\(_F\|_P\)\?([A-Za-z0-9_]*' \
  engine/*.cc matching/*.cc server/*.cc batch/*.cc | sed 's/.*(//' | sort -u)"
FILTER="${TSAN_FILTER:-$(printf '%s.*:' $suites)}"
start=$SECONDS
log=$TSAN_BUILD_DIR/tsan.log
rc=0
(cd "$TSAN_BUILD_DIR" && tests/errand_unit_tests --gtest_filter="$FILTER" \
  --gtest_brief=1) >"$log" 2>&1 || rc=$?
reports="$(grep -c '^WARNING: ThreadSanitizer' "$log" || true)"
grep -E '^\[  (PASSED|FAILED)  \]' "$log" || true
if [ "$rc" -eq 0 ]; then
  log "no reports ($((SECONDS - start)) s)"
  exit 0
fi
grep '^SUMMARY: ThreadSanitizer' "$log" | sort | uniq -c || true
log "FAILED: $reports reports, exit $rc ($((SECONDS - start)) s); see $log"
# What failed and the first report, for the end of scripts/test.sh's output
# (CI keeps only the tail of a run).
{
  echo "TSan: $reports reports, exit $rc"
  grep -E '^\[  FAILED  \]|^SUMMARY: ThreadSanitizer' "$log" | sort | uniq -c | head -20
  awk '/^WARNING: ThreadSanitizer/{on=1} on{print; n++} n>=60{exit}' "$log"
} >"$TSAN_BUILD_DIR/failure-summary.txt"
exit 1
