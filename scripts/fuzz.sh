#!/usr/bin/env bash
# Builds each fuzz target under tests/fuzz with clang's libFuzzer, ASan and
# UBSan, and runs it for FUZZ_SECONDS (default 15) from its committed corpus
# (tests/fuzz/corpus/<target>). Fails on the first crash or property
# violation and prints the reproducer's path; replay a reproducer with
#   build/fuzz/<target> <file>   or   build/tests/errand_<target>_fuzz <file>
#
# Only the target and the Errand sources it exercises are compiled with clang
# (instrumented); everything else links from the gcc build in BUILD_DIR, which
# must be built (scripts/build.sh). Compile flags and link lines are taken
# from that build, so they follow CMakeLists.txt.
#
# FUZZ_TARGETS (default: all) picks targets, e.g. FUZZ_TARGETS="token config".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
FUZZ_DIR="${FUZZ_DIR:-$BUILD_DIR/fuzz}"
FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
CLANGXX="${CLANGXX:-clang++-14}"

# target: the Errand sources it exercises (compiled with clang for coverage).
declare -A SOURCES=(
  [query]="src/visibility/query.cc"
  [token]="src/frontend/activity_mapping.cc"
  [validation]="src/frontend/activity_validation.cc"
  [config]="src/server/config.cc"
  [page_token]="src/visibility/lister.cc src/visibility/filter.cc src/visibility/query.cc"
  [http_json]="src/http/json_transcoding.cc src/http/routes.cc"
)
TARGETS="${FUZZ_TARGETS:-query token validation config page_token http_json}"

if ! command -v "$CLANGXX" >/dev/null; then
  echo "fuzz: $CLANGXX not found (scripts/setup.sh --tests installs clang-14)" >&2
  exit 1
fi
drivers=()
for t in $TARGETS; do drivers+=("tests/errand_${t}_fuzz"); done
# The gcc build of each driver provides its link line and the libraries.
cmake --build "$BUILD_DIR" --target "${drivers[@]/#tests\//}" >/dev/null

SANITIZE=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
mkdir -p "$FUZZ_DIR"

# Prints the compile flags (no compiler, -o, -c or warnings) the gcc build
# uses for `file`.
compile_flags() {
  python3 - "$BUILD_DIR/compile_commands.json" "$1" <<'PY'
import json, shlex, sys
entries, wanted = json.load(open(sys.argv[1])), sys.argv[2]
for e in entries:
    if e["file"] == wanted:
        args = shlex.split(e["command"])[1:]
        out, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("-o", "-c"):
                skip = True
            elif not a.startswith("-W"):
                out.append(a)
        print(shlex.join(out))
        break
else:
    sys.exit(f"no compile command for {wanted}")
PY
}

# Builds build/fuzz/<target>: the gcc driver's link line, with the driver's
# objects replaced by clang-compiled ones and libFuzzer's main.
build_target() {
  local t="$1" objs=() src obj flags
  for src in "tests/fuzz/${t}_fuzz.cc" ${SOURCES[$t]}; do
    obj="$FUZZ_DIR/obj/$t/$(basename "$src").o"
    mkdir -p "$(dirname "$obj")"
    flags="$(compile_flags "$ROOT/$src")"
    eval "$CLANGXX $flags -O1 -g -DERRAND_LIBFUZZER ${SANITIZE[*]} -c $ROOT/$src -o $obj"
    objs+=("$obj")
  done
  local link
  link="$(cd "$BUILD_DIR" && ninja -t commands "tests/errand_${t}_fuzz" | tail -1)"
  link="${link#: && }"
  link="${link% && :}"
  # Drop the compiler, the gcc objects and the output; keep the libraries.
  local libs
  libs="$(sed -E 's#^[^ ]+ ##; s#[^ ]*\.cc\.o##g; s#-o [^ ]+##' <<<"$link")"
  (cd "$BUILD_DIR" &&
    eval "$CLANGXX ${SANITIZE[*]} ${objs[*]} $libs -o $FUZZ_DIR/$t")
}

failed=()
for t in $TARGETS; do
  start=$SECONDS
  build_target "$t"
  built=$((SECONDS - start))
  corpus="$ROOT/tests/fuzz/corpus/$t"
  scratch="$FUZZ_DIR/new/$t"
  artifacts="$FUZZ_DIR/artifacts/$t"
  rm -rf "$scratch" "$artifacts"
  mkdir -p "$scratch" "$artifacts"
  # New inputs go to the scratch dir; the committed corpus is only read.
  if "$FUZZ_DIR/$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$scratch" "$corpus" >"$FUZZ_DIR/$t.log" 2>&1; then
    echo "fuzz $t: ok (built in ${built}s; $(grep -c '' <(ls "$scratch")) new inputs;" \
      "$(grep -o 'stat::number_of_executed_units: [0-9]*' "$FUZZ_DIR/$t.log" |
        grep -o '[0-9]*$') runs in ${FUZZ_SECONDS}s)"
  else
    echo "fuzz $t: FAILED (log: $FUZZ_DIR/$t.log)"
    grep -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|property failed|exception escaped|SUMMARY' \
      "$FUZZ_DIR/$t.log" | head -5 || true
    for f in "$artifacts"/*; do
      [ -e "$f" ] && echo "  reproducer: $f (replay: $FUZZ_DIR/$t $f)"
    done
    failed+=("$t")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: FAILED targets: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets passed"
