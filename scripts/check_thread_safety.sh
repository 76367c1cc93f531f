#!/usr/bin/env bash
# Clang's thread-safety analysis over Errand's own code: every translation unit
# under src/ and tests/ is parsed (not compiled) by clang++-14 with the include
# paths and defines of the gcc build, taken from its compile_commands.json.
# Only thread-safety warnings fail the check (-Werror=thread-safety*); other
# clang warnings are printed but do not. Third-party headers are included with
# -isystem by CMake, so their own code is not analysed.
# Needs a configured build (scripts/build.sh) for compile_commands.json and the
# generated Temporal API headers. BUILD_DIR and JOBS can be overridden.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"
CLANG="${CLANG:-clang++-14}"

if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "$CLANG not found: run scripts/setup.sh --tests" >&2
  exit 1
fi
if [ ! -f "$BUILD_DIR/compile_commands.json" ]; then
  echo "no $BUILD_DIR/compile_commands.json: run scripts/build.sh first" >&2
  exit 1
fi

exec python3 - "$ROOT" "$BUILD_DIR" "$JOBS" "$CLANG" <<'EOF'
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time

root, build_dir, jobs, clang = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# -Wthread-safety is analysis + attributes + precise + reference;
# -Wthread-safety-beta adds the checks clang still calls experimental (for
# example locks taken in constructors and destructors are not exempt).
CHECKS = ["-Wthread-safety", "-Wthread-safety-beta",
          "-Werror=thread-safety", "-Werror=thread-safety-beta"]
# Options of the gcc build that do not carry over to a clang syntax check.
DROP_WITH_ARG = {"-o"}
DROP = {"-c", "-Wall", "-Wextra"}

with open(os.path.join(build_dir, "compile_commands.json")) as f:
    entries = json.load(f)

own = (os.path.join(root, "src") + os.sep, os.path.join(root, "tests") + os.sep)
units = []
for e in entries:
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if not path.startswith(own):
        continue
    args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    cmd = [clang, "-fsyntax-only", "-fno-color-diagnostics"]
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
        elif a in DROP_WITH_ARG:
            skip = True
        elif a in DROP or a == e["file"] or a == path:
            pass
        else:
            cmd.append(a)
    cmd += CHECKS + [path]
    units.append((os.path.relpath(path, root), e["directory"], cmd))

def check(unit):
    rel, cwd, cmd = unit
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return rel, p.returncode, p.stdout + p.stderr

start = time.monotonic()
failed = []
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    for rel, rc, out in pool.map(check, units):
        if out:
            sys.stdout.write(out)
        if rc != 0:
            failed.append(rel)
elapsed = time.monotonic() - start
if failed:
    print(f"thread-safety analysis failed in {len(failed)} of {len(units)} "
          f"files ({elapsed:.0f} s): {' '.join(failed)}", file=sys.stderr)
    sys.exit(1)
print(f"clang thread-safety analysis: {len(units)} files clean ({elapsed:.0f} s)")
EOF
