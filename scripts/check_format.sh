#!/usr/bin/env bash
# Fails if any C++ file is not clang-formatted (Google style, .clang-format).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
[ "${#files[@]}" -eq 0 ] && exit 0
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "C++ formatting differs; run: clang-format -i \$(git ls-files '*.cc' '*.h')" >&2
  exit 1
fi
echo "clang-format: ${#files[@]} files clean"
