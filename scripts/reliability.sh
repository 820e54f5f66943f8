#!/usr/bin/env bash
# Regenerates RELIABILITY.md from measured figures: runs the test suite with RELIABILITY_OUT set
# (the reliability tests append what they measure), runs every fuzz target for FUZZTIME, then
# renders the document from those lines. Not part of CI: it takes minutes, and CI checks the
# behaviour itself, not this file.
#
# FUZZTIME is a count of executions: a duration can fail a run with "context deadline exceeded"
# and no crasher on Go before 1.27 (go.dev/issue/75804).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.11}"
FUZZTIME="${FUZZTIME:-30000x}"
figures=$(mktemp)
log=$(mktemp)
trap 'rm -f "$figures" "$log"' EXIT

echo "== go test (figures to $figures)"
RELIABILITY_OUT="$figures" go test -count=1 -timeout 30m .

if command -v node >/dev/null && [ -d web/node_modules ] && [ -d web/example/node_modules ]; then
  echo "== web/test/nextproxy.test.js (figures to $figures)"
  (cd web && npm run build >/dev/null && RELIABILITY_OUT="$figures" node --test test/nextproxy.test.js)
fi

echo "== fuzz ($FUZZTIME each)"
for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' *_test.go | sed 's/^func //'); do
  start=$(date +%s%N)
  go test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" . > "$log" 2>&1 ||
    { cat "$log"; echo "fuzz $target failed; the crasher is under testdata/fuzz/$target"; exit 1; }
  seconds=$(( ($(date +%s%N) - start) / 1000000000 ))
  last=$(grep 'execs: ' "$log" | tail -1)
  execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' <<<"$last")
  interesting=$(sed -n 's/.*new interesting: \([0-9]*\).*/\1/p' <<<"$last")
  echo "$target: $execs execs in ${seconds}s, $interesting new interesting"
  printf '{"test":"%s","name":"fuzz","figures":{"target":"%s","seconds":%s,"execs":%s,"new_interesting":%s}}\n' \
    "$target" "$target" "$seconds" "${execs:-0}" "${interesting:-0}" >> "$figures"
done

go run ./scripts/reliability "$figures" > RELIABILITY.md
echo "RELIABILITY.md regenerated"
