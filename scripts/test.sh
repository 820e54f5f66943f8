#!/usr/bin/env bash
# Runs every test of the project: the README's test command, and what CI runs.
# Postgres: TEST_DATABASE_URL, else a testcontainers Postgres when Docker answers, else the local
# server at 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
# go1.26.11 carries the standard-library security fixes govulncheck asks for; the go command
# fetches it from the module proxy once.
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.11}"

echo "== go vet, gofmt"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
# The load harness is run by hand (BENCHMARKS.md); CI only checks that it parses.
bash -n bench/run.sh

echo "== go test -race"
# The race detector slows scrypt many times over; the whole suite passes 10 minutes on a busy machine.
go test -race -count=1 -timeout 30m ./...

echo "== fuzz (${FUZZTIME:=10s} each)"
for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' *_test.go | sed 's/^func //'); do
  go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" . > /tmp/authsidecar-fuzz.log 2>&1 ||
    { cat /tmp/authsidecar-fuzz.log; echo "fuzz $target failed; the crasher is under testdata/fuzz/$target"; exit 1; }
  echo "$target: $(grep -o 'execs: [0-9]*' /tmp/authsidecar-fuzz.log | tail -1)"
done

# The TypeScript client, its tests against a real sidecar, and the example app in Chromium
# (web/test/*.test.js). Outside CI a machine without Node skips this step with one loud line.
echo "== web"
if ! command -v npm >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "npm is required in CI" >&2; exit 1; fi
  echo "!!! SKIPPING web tests: node/npm not found on PATH !!!"
else
  (
    cd web
    npm ci --no-audit --no-fund --loglevel=error
    npm run build
    (cd example && npm ci --no-audit --no-fund --loglevel=error)
    npm test
  )
fi

echo "== compat"
# The official npm client against the Node reference and against us (web/compat/README.md).
if ! command -v npm >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "npm is required in CI" >&2; exit 1; fi
  echo "!!! SKIPPING compat: node/npm not found on PATH !!!"
else (
  cd web/compat
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  npm test
) fi
