#!/usr/bin/env bash
# Instructions per cookie-cache hit of authsidecar and of bench/ceiling, the figure BENCHMARKS.md
# gives beside wrk's: unlike req/s on a shared machine it does not move with the load. Each server
# runs under `valgrind --tool=cachegrind` (user-space instructions of every thread: handler,
# net/http, GC, scheduler) and is sent N keep-alive GET get-session requests on one connection,
# each waited for, the request wrk sends in bench/run.sh (same Origin, same cookies); the count
# per request is the difference between the totals at N2 and N1 requests over N2 - N1, which
# cancels start-up. With ANNOTATE=1 it also prints the functions that differ most between the
# two (cg_diff of each server's two runs, ours minus the ceiling's, per request).
#
# Environment: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
# N1 (default 500), N2 (default 6500). Takes a few minutes; needs valgrind, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.26.11}
admin_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
n1=${N1:-500}
n2=${N2:-6500}
db=instr_$$
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" 2>/dev/null || true; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -o "$work/authsidecar" .
CGO_ENABLED=0 go build -o "$work/ceiling" ./bench/ceiling
psql -q "$admin_url" -c "CREATE DATABASE \"$db\""
url=$(python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$admin_url" "$db")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
origin=http://127.0.0.1:$port
ours=(env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$url" BETTER_AUTH_SECRET=bench-harness-secret-0123456789-abcdefghij
	BETTER_AUTH_URL="$origin" ADDR=127.0.0.1:$port RATE_LIMIT=false COOKIE_CACHE_MAX_AGE=3600)
# valgrind 3.19 knows neither Go's preemption signals nor RDTSCP.
godebug=GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off

wait_ready() { for _ in $(seq 600); do curl -sf -o /dev/null "$origin/api/auth/ok" && return 0; sleep 0.2; done; exit 1; }

# The session is made natively; the cookie cache (an hour) outlives the runs under valgrind.
"${ours[@]}" "$work/authsidecar" >"$work/seed.log" 2>&1 &
seeder=$!
wait_ready
cookie=$(curl -sf -D - -o /dev/null -H "Origin: $origin" -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"bench-password-123","name":"Bench"}' "$origin/api/auth/sign-up/email" |
	tr -d '\r' | awk 'tolower($1) == "set-cookie:" { sub(/^[^:]*: /, ""); sub(/;.*/, ""); if ($0 !~ /=$/) print }' |
	paste -sd ';' | sed 's/;/; /g')
kill "$seeder"
wait "$seeder" 2>/dev/null || true
[[ $cookie == *session_data* ]] || { echo "no session_data cookie: $cookie" >&2; exit 1; }

# hits n: n requests on one connection; fails on any answer but a 200 without Set-Cookie (a hit).
hits() {
	python3 - "$port" "$1" "$cookie" "$origin" <<'EOF'
import socket, sys
port, n, cookie, origin = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
req = f"GET /api/auth/get-session HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n".encode()
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
for _ in range(n):
    s.sendall(req)
    if b" 200 " not in f.readline():
        sys.exit("not a 200")
    length = 0
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.decode().partition(":")
        if k.lower() == "set-cookie":
            sys.exit("Set-Cookie: not a cookie-cache hit")
        if k.lower() == "content-length":
            length = int(v)
    f.read(length)
EOF
}

for n in "$n1" "$n2"; do
	for server in ours ceiling; do
		if [ $server = ours ]; then
			"${ours[@]}" $godebug valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$work/$server.$n" \
				"$work/authsidecar" >"$work/$server.$n.log" 2>&1 &
		else
			env $godebug valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$work/$server.$n" \
				"$work/ceiling" 127.0.0.1:$port >"$work/$server.$n.log" 2>&1 &
		fi
		vg=$!
		wait_ready
		hits "$n"
		kill -TERM $vg # SIGTERM: a background job of a script ignores SIGINT
		wait $vg 2>/dev/null || true
	done
done

total() { awk '/^summary:/ { print $2 }' "$1"; }
for server in ours ceiling; do
	echo "$server: $((($(total "$work/$server.$n2") - $(total "$work/$server.$n1")) / (n2 - n1))) instructions per request"
	cg_diff "$work/$server.$n1" "$work/$server.$n2" >"$work/$server.diff" 2>/dev/null
done
if [ "${ANNOTATE:-}" = 1 ]; then
	python3 - "$work/ours.diff" "$work/ceiling.diff" $((n2 - n1)) <<'EOF'
import re, subprocess, sys
def load(f):
    out = subprocess.run(["cg_annotate", "--auto=no", "--threshold=0", f], capture_output=True, text=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*(-?[\d,]+)\s+\(\s*-?[\d.]+%\)\s+(\S.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            name = m.group(2).split(":", 1)[-1]
            d[name] = d.get(name, 0) + int(m.group(1).replace(",", ""))
    return d
ours, ceiling, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
rows = sorted(((ours.get(k, 0) - ceiling.get(k, 0)) / n, k) for k in set(ours) | set(ceiling))
print("ours minus the ceiling, instructions per request, by function:")
for d, k in reversed(rows[-40:]):
    print(f"{d:8.0f}  {k}")
EOF
fi
