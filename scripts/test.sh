#!/usr/bin/env bash
# Runs every test of the project: the README's test command, and what CI runs.
# Postgres: TEST_DATABASE_URL, else a testcontainers Postgres when Docker answers, else the local
# server at 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi

echo "== go test"
go test -count=1 ./...

echo "== compat"
# The official npm client against the Node reference and against us (web/compat/README.md).
(
  cd web/compat
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  npm test
)
