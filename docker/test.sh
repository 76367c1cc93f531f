#!/usr/bin/env bash
# Runs the Errand image for real: a named volume, a published port, a mounted
# config file plus ERRAND_* variables, the Python SDK's greeting flow, a
# graceful stop (SIGTERM, exit 0), then a new container on the same volume
# that must still have the completed activity.
#
#   docker/test.sh            # reuses errand:latest if present, else builds it
#   ERRAND_IMAGE=errand:dev ERRAND_REBUILD=1 docker/test.sh
#
# Not part of scripts/test.sh or .ci/run: the image build compiles Errand in
# a container (tens of minutes on two cores). Needs a running Docker engine and
# the pinned Python SDK (ERRAND_PYTHON, default ~/.cache/errand/venv/bin/python).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${ERRAND_IMAGE:-errand:latest}"
PY="${ERRAND_PYTHON:-$HOME/.cache/errand/venv/bin/python}"
DOCKER="${DOCKER:-docker}"
NAME="errand-test-$$"
VOLUME="errand-test-data-$$"
WORK="$(mktemp -d /tmp/errand-docker-test.XXXXXX)"

say() { printf '[test.sh] %s\n' "$*"; }
fail() {
  printf '[test.sh] FAIL: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  if ((rc != 0)); then
    for c in "$NAME-1" "$NAME-2"; do
      if "$DOCKER" container inspect "$c" >/dev/null 2>&1; then
        echo "--- logs of $c ---" >&2
        "$DOCKER" logs "$c" 2>&1 | tail -n 40 >&2 || true
      fi
    done
  fi
  "$DOCKER" rm -f "$NAME-1" "$NAME-2" >/dev/null 2>&1 || true
  "$DOCKER" volume rm "$VOLUME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

[[ -x "$PY" ]] || fail "no Python SDK at $PY (run scripts/setup.sh or set ERRAND_PYTHON)"
if [[ -n "${ERRAND_REBUILD:-}" ]] || ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  "$ROOT/docker/build.sh" "$IMAGE"
fi
say "image $IMAGE: $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}')"

# A config file of the user's own, mounted over the image's; an environment
# variable overrides one of its settings (file < environment < flags).
cat >"$WORK/errand.yaml" <<'YAML'
listen: 0.0.0.0:7233
data_dir: /data
shards: 2
shutdown_grace: 5s
namespaces:
  - name: default
    retention: 72h
YAML
chmod 644 "$WORK/errand.yaml"

# The root file system is read-only, as docker/kubernetes.yaml runs it: errand
# writes only to /data.
start_container() { # NAME
  "$DOCKER" run -d --name "$1" \
    -v "$VOLUME:/data" \
    -v "$WORK/errand.yaml:/etc/errand/errand.yaml:ro" \
    -e ERRAND_SHARDS=3 \
    --read-only \
    -p 127.0.0.1::7233 \
    --health-interval 1s --health-start-period 60s \
    "$IMAGE" >/dev/null
  local port=""
  for _ in $(seq 50); do
    port="$("$DOCKER" port "$1" 7233/tcp 2>/dev/null | head -n1 | sed 's/.*://')" || true
    [[ -n "$port" ]] && break
    sleep 0.2
  done
  [[ -n "$port" ]] || fail "$1 published no port"
  ADDRESS="127.0.0.1:$port"
  # The image's HEALTHCHECK (errand health) must report healthy.
  local status=""
  for _ in $(seq 120); do
    status="$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$1")"
    [[ "$status" == healthy ]] && break
    [[ "$("$DOCKER" inspect -f '{{.State.Running}}' "$1")" == true ]] || fail "$1 exited"
    sleep 0.5
  done
  [[ "$status" == healthy ]] || fail "$1 not healthy after 60 s (status $status)"
  say "$1 healthy on $ADDRESS"
}

"$DOCKER" volume create "$VOLUME" >/dev/null

# --- First container: the greeting flow. ---------------------------------------
start_container "$NAME-1"
say "errand health in $NAME-1: $("$DOCKER" exec "$NAME-1" errand health)"
uid="$("$DOCKER" exec "$NAME-1" id -u)"
pid1="$("$DOCKER" exec "$NAME-1" cat /proc/1/comm)"
say "runs as uid $uid; PID 1 is $pid1"
[[ "$uid" == 10001 ]] || fail "expected uid 10001, got $uid"
[[ "$pid1" == errand ]] || fail "expected errand as PID 1, got $pid1"
"$DOCKER" logs "$NAME-1" 2>&1 | grep -q 'data dir /data, sync on, 3 shards' ||
  fail "the config file (data_dir) and ERRAND_SHARDS=3 were not both applied"
say "config: mounted file applied, ERRAND_SHARDS=3 overrides its shards: 2"

say "scenario (Python SDK greeting flow):"
"$PY" "$ROOT/docker/greeting.py" run "$ADDRESS" "$WORK/state.json" >"$WORK/run.out" 2>&1 ||
  { sed 's/^/    /' "$WORK/run.out"; fail "greeting flow failed"; }
sed 's/^/    /' "$WORK/run.out"

# --- Graceful stop. -----------------------------------------------------------
t0=$(date +%s.%N)
"$DOCKER" stop -t 30 "$NAME-1" >/dev/null
t1=$(date +%s.%N)
code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME-1")"
secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')"
say "docker stop: exit code $code after $secs s"
[[ "$code" == 0 ]] || fail "expected exit code 0 on SIGTERM, got $code"
"$DOCKER" logs "$NAME-1" 2>&1 | grep -q 'received SIGTERM' || fail "no SIGTERM in the log"
"$DOCKER" logs "$NAME-1" 2>&1 | grep -q 'stopped$' || fail "no clean stop in the log"
"$DOCKER" logs "$NAME-1" 2>&1 | grep -E 'received SIGTERM|stopped$' | sed 's/^/    /'

# --- A new container on the same volume. --------------------------------------
start_container "$NAME-2"
"$PY" "$ROOT/docker/greeting.py" check "$ADDRESS" "$WORK/state.json" >"$WORK/check.out" 2>&1 ||
  { sed 's/^/    /' "$WORK/check.out"; fail "the activity did not survive the restart"; }
sed 's/^/    /' "$WORK/check.out"
"$DOCKER" stop -t 30 "$NAME-2" >/dev/null
[[ "$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$NAME-2")" == 0 ]] || fail "second stop not clean"
say "PASS"
