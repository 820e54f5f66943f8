#!/usr/bin/env bash
# Runs every test of the project: the README's test command, and what CI runs.
# Postgres: TEST_DATABASE_URL, else a testcontainers Postgres when Docker answers, else the local
# server at 127.0.0.1:5432 (user postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
# go1.26.11 carries the standard-library security fixes govulncheck asks for; the go command
# fetches it from the module proxy once.
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.11}"

# Each step says how long it took; CI must stay under 15 minutes on two cores.
step() { echo "== $1 (at ${SECONDS}s)"; }

# The npm installs only wait on the network: they run while the Go tests use the cores.
npm_log=$(mktemp -d)
npm_install() { # dir
  (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) > "$npm_log/${1//\//_}.log" 2>&1
}
installs=()
trap 'kill "${installs[@]}" ${k8s_install:-} ${fuzz:-} 2>/dev/null || true' EXIT
if command -v npm >/dev/null 2>&1; then
  { npm_install web && npm_install web/example; } & installs+=($!)
  if [ ! -f web/compat/node_modules/.package-lock.json ] || [ web/compat/package-lock.json -nt web/compat/node_modules/.package-lock.json ]; then
    npm_install web/compat & installs+=($!)
  fi
fi
# kubectl-validate checks deploy/ against Kubernetes' own OpenAPI schemas, which it embeds (no
# network at validation time; kubeconform would need its schemas downloaded). Built beside the
# tests, waited for in the "deploy" step.
k8s_bin=$(mktemp -d)
GOBIN="$k8s_bin" nice go install sigs.k8s.io/kubectl-validate@v0.0.4 > "$k8s_bin/install.log" 2>&1 & k8s_install=$!
installs_k8s() { wait "$k8s_install" || { cat "$k8s_bin/install.log"; echo "installing kubectl-validate failed" >&2; exit 1; }; }

wait_installs() {
  for pid in "${installs[@]}"; do
    wait "$pid" || { cat "$npm_log"/*.log; echo "npm ci failed" >&2; exit 1; }
  done
  installs=()
}

step "go vet, gofmt"
go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
# The load harness is run by hand (BENCHMARKS.md); CI only checks that it parses.
bash -n bench/run.sh

step "go test -race"
# Most tests wait on Postgres, HTTP and the mail answer floor rather than the CPU, so eight run at
# once; the race detector slows scrypt many times over, hence the long timeout.
go test -race -count=1 -parallel 8 -timeout 30m ./...

step "deploy"
installs_k8s
"$k8s_bin/kubectl-validate" --version 1.30 deploy/kubernetes.yaml
# The check must be able to fail: a manifest with a misspelt field and a wrong type is refused.
if "$k8s_bin/kubectl-validate" --version 1.30 testdata/deploy/invalid.yaml > /dev/null 2>&1; then
  echo "kubectl-validate accepted testdata/deploy/invalid.yaml" >&2; exit 1
fi

step "fuzz (${FUZZTIME:=10000x} each), in the background"
# One instrumented build serves every target; a crasher is written under testdata/fuzz/<target>.
# FUZZTIME counts executions: a duration can fail a run with "context deadline exceeded" and no
# crasher on Go before 1.27 (go.dev/issue/75804). It runs at a lower priority beside the web and
# compat steps, which mostly wait on browsers, mail and the network, and is waited for at the end:
# on two cores that keeps CI under its 15 minutes.
fuzzbin=$(mktemp -d)
fuzz_all() {
  go test -c -fuzz=. -o "$fuzzbin/fuzz.test" .
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' *_test.go | sed 's/^func //'); do
    "$fuzzbin/fuzz.test" -test.run '^$' -test.fuzz "^$target\$" -test.fuzztime "$FUZZTIME" \
      -test.fuzzcachedir "$fuzzbin/cache" > "$fuzzbin/log" 2>&1 ||
      { cat "$fuzzbin/log"; echo "fuzz $target failed; the crasher is under testdata/fuzz/$target"; return 1; }
    echo "$target: $(grep -o 'execs: [0-9]*' "$fuzzbin/log" | tail -1)"
  done
}
(renice -n 10 -p "$BASHPID" > /dev/null && fuzz_all) > "$fuzzbin/out" 2>&1 & fuzz=$!

# The TypeScript client, its tests against a real sidecar, and the example app in Chromium
# (web/test/*.test.js). Outside CI a machine without Node skips this step with one loud line.
step "web"
if ! command -v npm >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "npm is required in CI" >&2; exit 1; fi
  echo "!!! SKIPPING web tests: node/npm not found on PATH !!!"
else
  wait_installs
  (cd web && npm run build && npm test)
fi

step "compat"
# The official npm client against the Node reference and against us (web/compat/README.md).
if ! command -v npm >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "npm is required in CI" >&2; exit 1; fi
  echo "!!! SKIPPING compat: node/npm not found on PATH !!!"
else
  (cd web/compat && npm test)
fi

step "fuzz results"
fuzz_status=0
wait "$fuzz" || fuzz_status=$?
cat "$fuzzbin/out"
[ "$fuzz_status" -eq 0 ] || { echo "fuzz failed" >&2; exit 1; }
step "done"
