#!/usr/bin/env bash
# Builds Temporal's server and its SQL schema tool from the published Go
# module go.temporal.io/server at the version that the pinned Temporal CLI
# embeds (go.mod here pins it; go.sum checks it), once, into a cache outside
# the repository. Prints the directory holding the binaries:
#   temporal-server     (go.temporal.io/server/cmd/server)
#   temporal-sql-tool   (go.temporal.io/server/cmd/tools/sql)
# and, beside them, a `schema` link to the module's PostgreSQL schema.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
VERSION="$(go list -m -f '{{.Version}}' go.temporal.io/server)"
OUT="${TEMPORAL_SERVER_CACHE:-$HOME/.cache/errand/temporal-server}/${VERSION#v}"
if [ -x "$OUT/bin/temporal-server" ] && [ -x "$OUT/bin/temporal-sql-tool" ] && [ -d "$OUT/schema" ]; then
  echo "$OUT"
  exit 0
fi
mkdir -p "$OUT/bin"
echo "[temporal-postgres] building Temporal server $VERSION (several minutes, once)" >&2
start=$SECONDS
go mod download go.temporal.io/server
nice -n 15 go build -trimpath -o "$OUT/bin/temporal-sql-tool.tmp" go.temporal.io/server/cmd/tools/sql
nice -n 15 go build -trimpath -o "$OUT/bin/temporal-server.tmp" go.temporal.io/server/cmd/server
mv "$OUT/bin/temporal-sql-tool.tmp" "$OUT/bin/temporal-sql-tool"
mv "$OUT/bin/temporal-server.tmp" "$OUT/bin/temporal-server"
# The schema files ship inside the module (read-only in the module cache).
ln -sfn "$(go list -m -f '{{.Dir}}' go.temporal.io/server)/schema" "$OUT/schema"
echo "[temporal-postgres] built in $((SECONDS - start)) s" >&2
echo "$OUT"
