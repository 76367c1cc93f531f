#!/usr/bin/env bash
# Installs everything Errand's build and tests need on a fresh Debian 12
# machine: system packages, the Python venv with the pinned Temporal Python SDK
# (whose descriptors the build generates the Temporal API from), the pinned
# TypeScript SDK and, with --tests, the Go SDK modules, the Java SDK suite's
# Maven dependencies, the pinned Temporal CLI and Debian's clang-14. Safe to run again: it only installs what is missing or
# what a lock file changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ERRAND_CACHE="${ERRAND_CACHE:-$HOME/.cache/errand}"
VENV="$ERRAND_CACHE/venv"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

log() { printf '[setup] %s\n' "$*" >&2; }

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang-format
  libgrpc++-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libabsl-dev librocksdb-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libjemalloc-dev libcpp-httplib-dev nlohmann-json3-dev
  python3 python3-venv curl ca-certificates
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# Node.js may come from another source than Debian; only the command matters.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing system packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "system packages present"
fi

# Python: the pinned SDK, its protobuf descriptors, and pytest.
PY_LOCK="$ROOT/tests/compat/python/requirements.lock"
PY_STAMP="$VENV/.errand-lock"
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$PY_LOCK" "$PY_STAMP"; then
  log "creating Python environment in $VENV"
  mkdir -p "$ERRAND_CACHE"
  # Prefer the system interpreter: it is the one python3-venv was installed for.
  PY=python3
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -m venv --help >/dev/null 2>&1 && PY=/usr/bin/python3
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$PY_LOCK"
  cp "$PY_LOCK" "$PY_STAMP"
else
  log "Python environment up to date"
fi

# TypeScript SDK, pinned by package-lock.json.
TS_DIR="$ROOT/tests/compat/ts"
TS_STAMP="$TS_DIR/node_modules/.errand-lock"
if [ ! -d "$TS_DIR/node_modules" ] || ! cmp -s "$TS_DIR/package-lock.json" "$TS_STAMP"; then
  log "installing the TypeScript SDK (versions pinned in package.json and package-lock.json)"
  # Not `npm ci`: npm 11 leaves other platforms' optional packages out of the
  # lock file and then refuses it; `npm install` installs the locked versions.
  (cd "$TS_DIR" && npm install --no-audit --no-fund --loglevel=error)
  cp "$TS_DIR/package-lock.json" "$TS_STAMP"
else
  log "TypeScript SDK up to date"
fi
# The rest is for the test suites only (scripts/test.sh passes --tests), so
# that building and serving need no Go toolchain.
if [ "${1:-}" != "--tests" ]; then
  log "done"
  exit 0
fi

# Go SDK suite: needs a Go toolchain at least as new as the SDK's go.mod says
# (machines of this project's kind come with one; Debian's is too old).
GO_DIR="$ROOT/tests/compat/go"
GO_NEEDS="$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$GO_DIR/go.mod")"
if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain on PATH: install Go $GO_NEEDS or newer (the Go SDK suite needs it)"
  exit 1
fi
GO_HAS="$(go env GOVERSION | sed 's/^go//')"
if [ "$(printf '%s\n%s\n' "$GO_NEEDS" "$GO_HAS" | sort -V | head -n1)" != "$GO_NEEDS" ]; then
  log "Go $GO_HAS is older than the $GO_NEEDS the Go SDK suite needs"
  exit 1
fi
log "downloading the Go SDK modules (versions pinned in go.mod and go.sum)"
(cd "$GO_DIR" && go mod download)

# Java SDK suite: needs Maven and a JDK 17 or newer (machines of this
# project's kind come with both). Its dependencies and Maven plugins, pinned in
# pom.xml, go into ~/.m2 and stay there between runs; they are fetched again
# only when pom.xml changes. The test phase with a filter that names a test
# class but none of its methods resolves everything a run needs, including
# Surefire's JUnit Platform provider (which neither compiling nor a filter
# matching no class fetches), and runs no test, so needs no errand binary.
JAVA_DIR="$ROOT/tests/compat/java"
if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1 ||
  ! command -v javac >/dev/null 2>&1; then
  log "Maven or a JDK is missing: install Maven and JDK 17 or newer (on Debian: apt-get install maven openjdk-17-jdk-headless); the Java SDK suite needs them"
  exit 1
fi
JAVA_HAS="$(javac -version 2>&1 | sed -n 's/^javac \([0-9]*\).*/\1/p')"
if [ -z "$JAVA_HAS" ] || [ "$JAVA_HAS" -lt 17 ]; then
  log "javac ${JAVA_HAS:-of unknown version} is older than the JDK 17 the Java SDK suite needs"
  exit 1
fi
JAVA_STAMP="$ERRAND_CACHE/java-pom.xml"
if ! cmp -s "$JAVA_DIR/pom.xml" "$JAVA_STAMP" ||
  [ ! -d "$HOME/.m2/repository/io/temporal/temporal-sdk" ]; then
  log "fetching the Java SDK suite's Maven dependencies (versions pinned in pom.xml)"
  (cd "$JAVA_DIR" && mvn -B -q -Dstyle.color=never test \
    -Dtest='FoundationTest#noSuchMethod' -Dsurefire.failIfNoSpecifiedTests=false)
  mkdir -p "$ERRAND_CACHE"
  cp "$JAVA_DIR/pom.xml" "$JAVA_STAMP"
else
  log "Java SDK suite dependencies up to date"
fi

# The Temporal CLI the CLI suite drives, into the cache (a no-op when present).
"$ROOT/scripts/install_temporal_cli.sh" >/dev/null

# Debian's clang, for the thread-safety analysis (scripts/check_thread_safety.sh)
# and the fuzz targets (libFuzzer and the sanitizer runtimes are in
# libclang-rt-14-dev); the build itself uses gcc. Debian's Chromium, which
# the web UI's browser test (tests/compat/ts/ui.test.mjs) drives headless.
TEST_APT_PACKAGES=(clang-14 libclang-rt-14-dev chromium)
missing=()
for pkg in "${TEST_APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing test packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "test packages present"
fi
log "done"
