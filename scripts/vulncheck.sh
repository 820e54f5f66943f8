#!/usr/bin/env bash
# Runs govulncheck against a vulnerability database built from golang.org/x/vulndb, which the Go
# module proxy serves (vuln.go.dev itself may be out of reach, as on the CI machines).
set -euo pipefail
cd "$(dirname "$0")/.."
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
GOVULNCHECK_VERSION=v1.9.0
db="${XDG_CACHE_HOME:-$HOME/.cache}/authsidecar/vulndb-$VULNDB_VERSION"
if [ ! -f "$db/index/db.json" ]; then
  src=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init vulndb-index >/dev/null 2>&1 &&
    GOFLAGS=-mod=mod go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$db.tmp")
  rm -rf "$tmp" && mv "$db.tmp" "$db"
fi
# Findings we mitigate ourselves are listed, with the tests that prove it, in
# scripts/vulncheck-accepted.txt; scripts/vulnaccept fails on any other called vulnerability and on
# a listed one that is no longer reported.
report=$(mktemp)
trap 'rm -f "$report"' EXIT
go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$db" -format json ./... > "$report"
go run ./scripts/vulnaccept scripts/vulncheck-accepted.txt < "$report"
