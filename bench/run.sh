#!/usr/bin/env bash
# Loads authsidecar, a fixed-200 Go handler (bench/ceiling) and the Node reference
# (web/compat/reference: npm better-auth 1.7.25) side by side, each server on a fresh database of
# one Postgres, with the same wrk script, and prints the table of BENCHMARKS.md. Every figure is
# taken three times, the servers interleaved within each round (ours, ceiling, reference), and
# reported as the median of the three with their range, so one noisy moment on a shared machine
# does not decide a ratio; ratios are taken within a round, then their median. Then an RSS curve:
# ours sampled every second through a 64-connection sign-in flood and the 60 s after it.
# Sessions in Redis: ours and the reference with secondary storage (REDIS_URL, sessions only in
# Redis, each server under its own key prefix, deleted afterwards), get-session beside our
# Postgres path and sign-in with the rate-limit counters in Redis; the Redis commands each request
# costs are counted from INFO commandstats over the timed runs, and its round trips (commands the
# server sends, not those its scripts run) from MONITOR over requests sent one at a time.
# `bench/run.sh --write` also rewrites the results block of BENCHMARKS.md. Not part of CI: a run
# takes about ten minutes and wants the machine to itself.
#
# Environment: BENCH_DATABASE_URL (admin URL, default postgres://postgres@127.0.0.1:5432/postgres),
# BENCH_REDIS_URL (default redis://127.0.0.1:6379), BENCH_DURATION (each wrk run, default 10s),
# BENCH_ROUNDS (default 3), BENCH_ONLY=redis (only the Redis figures and our Postgres path beside
# them, no RSS curve: a quick check of that part).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.26.11}

write=false
[ "${1:-}" = --write ] && write=true
admin_url=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
redis_url=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
only=${BENCH_ONLY:-}
case $only in "" | redis) ;; *) echo "BENCH_ONLY: want redis or nothing, got $only" >&2; exit 2 ;; esac
if $write && [ -n "$only" ]; then
	echo "--write needs the whole run (no BENCH_ONLY)" >&2
	exit 2
fi
duration=${BENCH_DURATION:-10s}
rounds=${BENCH_ROUNDS:-3}
threads=2
conns=64
secret=bench-harness-secret-0123456789-abcdefghij
email=bench@example.com
password=bench-password-123
run=bench_$$
work=$(mktemp -d)

if ! command -v wrk >/dev/null; then
	echo "installing wrk" >&2
	apt-get install -y wrk >/dev/null
fi
[ -d web/compat/node_modules ] || (cd web/compat && npm ci --silent)
if ! redis-cli -u "$redis_url" PING 2>/dev/null | grep -q PONG; then
	echo "no Redis answers at $redis_url (BENCH_REDIS_URL); redis-cli is needed too" >&2
	exit 1
fi

declare -A pid origin prefix
dbs=()
cleanup() {
	for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for db in "${dbs[@]}"; do psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" 2>/dev/null || true; done
	for p in "${prefix[@]}"; do
		redis-cli -u "$redis_url" --scan --pattern "$p*" | xargs -r redis-cli -u "$redis_url" UNLINK >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
db_url() { python3 -c 'import sys, urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/"+sys.argv[2])))' "$admin_url" "$1"; }
# new_server name: a free port and a fresh database for server name, in port, url and origin.
new_server() {
	port=$(free_port)
	psql -q "$admin_url" -c "CREATE DATABASE \"${run}_$1\""
	dbs+=("${run}_$1")
	url=$(db_url "${run}_$1")
	origin[$1]=http://127.0.0.1:$port
}

wait_ready() { # name
	for _ in $(seq 600); do
		curl -sf -o /dev/null "${origin[$1]}/api/auth/ok" && return 0
		kill -0 "${pid[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "$1 did not start:" >&2
	cat "$work/$1.log" >&2
	exit 1
}

# start_ours name cache_max_age [VAR=value...] / start_reference name cache_max_age [VAR=value...]:
# a server on a fresh database, with nothing from this shell's environment but PATH and HOME and
# the variables given (both read the same ones), rate limits off on both unless given.
start_ours() {
	new_server "$1"
	env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$url" BETTER_AUTH_SECRET=$secret BETTER_AUTH_URL="${origin[$1]}" \
		ADDR=127.0.0.1:$port RATE_LIMIT=false COOKIE_CACHE_MAX_AGE="$2" MAIL_LOG="$work/$1-mail.log" "${@:3}" \
		"$work/authsidecar" >"$work/$1.log" 2>&1 &
	pid[$1]=$!
	wait_ready "$1"
}
start_reference() {
	new_server "$1"
	local env=(env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$url" BETTER_AUTH_SECRET=$secret
		BETTER_AUTH_URL="${origin[$1]}" COOKIE_CACHE_MAX_AGE="$2" MAIL_LOG="$work/$1-mail.log" "${@:3}")
	"${env[@]}" node web/compat/reference/migrate.mjs >"$work/$1.log" 2>&1
	"${env[@]}" node web/compat/reference/server.mjs >>"$work/$1.log" 2>&1 &
	pid[$1]=$!
	wait_ready "$1"
}

# cookies_of name path body: the Cookie header (name=value; …) that a POST of body to path on
# server name sets, cleared cookies left out.
cookies_of() {
	curl -sf -D - -o /dev/null -H "Origin: ${origin[$1]}" -H 'Content-Type: application/json' \
		-d "$3" "${origin[$1]}$2" |
		tr -d '\r' | awk 'tolower($1) == "set-cookie:" { sub(/^[^:]*: /, ""); sub(/;.*/, ""); if ($0 !~ /=$/) print }' |
		paste -sd ';' | sed 's/;/; /g'
}
# seed signs the bench user up on server name and prints the Cookie header its session needs.
seed() {
	local cookie
	cookie=$(cookies_of "$1" /api/auth/sign-up/email "$(printf '{"email":"%s","password":"%s","name":"Bench"}' $email $password)")
	if ! curl -sf -H "Cookie: $cookie" "${origin[$1]}/api/auth/get-session" | grep -q $email; then
		echo "$1: get-session does not answer the seeded session" >&2
		exit 1
	fi
	echo "$cookie"
}
# is_hit name: get-session on server name with its cookie is a cookie-cache hit: it answers
# without rewriting a cookie (a DB read rewrites session_data).
is_hit() {
	! curl -s -D - -o /dev/null -H "Cookie: ${cookie[$1]}" "${origin[$1]}/api/auth/get-session" | grep -qi '^set-cookie'
}
# fresh_hit name: signs in again on cookie-cache server name for a session_data cookie that
# outlives the next run. session_data expires COOKIE_CACHE_MAX_AGE (300 s) after it was set, and
# a whole run takes longer: a cookie kept from the start turns the last round's "cache hits" into
# DB reads.
fresh_hit() {
	cookie[$1]=$(cookies_of "$1" /api/auth/sign-in/email "$signin_body")
	if [[ ${cookie[$1]} != *session_data* ]]; then
		echo "$1 set no session_data cookie: ${cookie[$1]}" >&2
		exit 1
	fi
	if ! is_hit "$1"; then
		echo "$1: get-session with session_data set a cookie: not a cache hit" >&2
		exit 1
	fi
}

# load name path [body] [connections] [threads]: one wrk run; prints "req/s p50 p99 requests
# stalls" and fails on any non-2xx answer or socket error, so that a figure never counts errors as
# answers. stalls is how often bench/stallprobe saw a CPU not run at all for 50 ms or more during
# the run ("-" where it may not take a real-time priority). With spread set, each request comes
# from an address of its own (bench/load.lua).
spread=
load() {
	local out result probe stalls
	"$work/stallprobe" "$duration" >"$work/stalls.out" &
	probe=$!
	out=$(BENCH_BODY="${3:-}" BENCH_SPREAD_IP="$spread" wrk -t"${5:-$threads}" -c"${4:-$conns}" -d"$duration" --timeout 30s \
		-s bench/load.lua -H "Origin: ${origin[$1]}" ${cookie[$1]:+-H "Cookie: ${cookie[$1]}"} "${origin[$1]}$2")
	wait "$probe"
	read -r _ stalls _ <"$work/stalls.out"
	result=$(grep '^RESULT' <<<"$out")
	read -r _ n rps p50 p99 non2xx errs <<<"$result"
	if [ "$non2xx" != 0 ] || [ "$errs" != 0 ]; then
		echo "$1 $2: $n requests, $non2xx non-2xx, $errs socket errors" >&2
		echo "$out" >&2
		exit 1
	fi
	# None finished and none failed: a server starved by the machine's other load (the hashing
	# workers run at a lower priority). Reported as 0 req/s rather than ending the run.
	[ "$n" = 0 ] && echo "$1 $2: no request finished within $duration" >&2
	echo "$rps $p50 $p99 $n $stalls"
}

signin_body=$(printf '{"email":"%s","password":"%s"}' $email $password)
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)

echo "building" >&2
go build -o "$work/authsidecar" .
go build -o "$work/ceiling" ./bench/ceiling
go build -o "$work/stallprobe" ./bench/stallprobe
port=$(free_port)
origin[ceiling]=http://127.0.0.1:$port
"$work/ceiling" "127.0.0.1:$port" >"$work/ceiling.log" 2>&1 &
pid[ceiling]=$!
for _ in $(seq 100); do curl -sf -o /dev/null "${origin[ceiling]}/" && break; sleep 0.1; done

# redis_env name: renv, the variables of a server with sessions (and rate-limit counters) only in
# Redis, under a key prefix of its own.
redis_env() {
	prefix[$1]="${run}_$1:"
	renv=(REDIS_URL="$redis_url" REDIS_KEY_PREFIX="${prefix[$1]}")
}
# in_redis_only name: the seeded session is in Redis and not in Postgres (the reference then
# makes no session table).
in_redis_only() {
	local rows=0 db
	db=$(db_url "${run}_$1")
	if [ "$(psql -tA "$db" -c "SELECT to_regclass('session') IS NOT NULL")" = t ]; then
		rows=$(psql -tA "$db" -c 'SELECT count(*) FROM session')
	fi
	if [ "$rows" != 0 ] || [ -z "$(redis-cli -u "$redis_url" --scan --pattern "${prefix[$1]}active-sessions-*")" ]; then
		echo "$1: the session is not in Redis alone ($rows rows in Postgres)" >&2
		exit 1
	fi
}

echo "starting servers" >&2
declare -A cookie
redis_servers=(ours-redis reference-redis ours-redis-rl reference-redis-rl)
if [ "$only" = redis ]; then
	servers=(ours "${redis_servers[@]}")
	start_ours ours 0
else
	servers=(ours ours-cache reference reference-cache "${redis_servers[@]}")
	start_ours ours 0
	start_ours ours-cache 300
	start_reference reference 0
	start_reference reference-cache 300
fi
# Sessions only in Redis (as upstream defaults with secondaryStorage), the cookie cache off so
# every get-session reads Redis; the -rl pair also counts sign-in attempts there.
rl=(RATE_LIMIT=true RATE_LIMIT_STORAGE=secondary-storage)
redis_env ours-redis && start_ours ours-redis 0 "${renv[@]}"
redis_env reference-redis && start_reference reference-redis 0 "${renv[@]}"
redis_env ours-redis-rl && start_ours ours-redis-rl 0 "${renv[@]}" "${rl[@]}"
redis_env reference-redis-rl && start_reference reference-redis-rl 0 "${renv[@]}" "${rl[@]}"
for s in "${servers[@]}"; do cookie[$s]=$(seed $s); done
for s in "${redis_servers[@]}"; do in_redis_only $s; done

# settle pauses a second, then waits, up to a minute, until the machine is at least 90% idle over
# half a second, so that no run starts while a server still works off the last run's load (a
# flood's sign-ins already received are still answered after wrk has stopped).
cpu_times() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }
settle() {
	local b0 t0 b1 t1
	sleep 1
	for _ in $(seq 120); do
		read -r b0 t0 < <(cpu_times)
		sleep 0.5
		read -r b1 t1 < <(cpu_times)
		[ $(((b1 - b0) * 10)) -le $((t1 - t0)) ] && return 0
	done
	echo "  the machine did not settle within a minute" >&2
}
declare -A r
# field key n round: the nth figure (1 req/s, 2 p50, 3 p99, 4 requests, 5 host stalls) of key in
# one round.
field() { cut -d' ' -f"$2" <<<"${r[$1.$3]}"; }
measure() { # key name path [body] [connections] [threads]
	echo "  $1 (round $round)" >&2
	settle
	r[$1.$round]=$(load "${@:2}")
}
# measure_hit key name: get-session's cookie-cache hit on server name, refused unless the cookie
# still hits after the run.
measure_hit() {
	measure "$1" "$2" /api/auth/get-session
	if ! is_hit "$2"; then
		echo "$2: its session_data cookie expired during the run: the figure is not of cache hits" >&2
		exit 1
	fi
}

# Redis commands over a timed run, from INFO commandstats: "command calls" lines, then per key
# the calls of each command (scripts' own included) and the requests wrk counted, over the rounds.
declare -A calls requests
cmdstats() { redis-cli -u "$redis_url" INFO commandstats | tr -d '\r' | awk -F'[:,=]' '/^cmdstat_/ { sub(/^cmdstat_/, "", $1); print $1, $3 }' | sort; }
measure_redis() { # key name path [body]
	echo "  $1 (round $round)" >&2
	settle
	local before after cmd d
	before=$(cmdstats)
	r[$1.$round]=$(load "${@:2}")
	after=$(cmdstats)
	requests[$1]=$((${requests[$1]:-0} + $(field "$1" 4 "$round")))
	while read -r cmd d; do
		calls[$1.$cmd]=$((${calls[$1.$cmd]:-0} + d))
	done < <(join -a2 <(echo "$before") <(echo "$after") | awk '$1 !~ /^(info|hello|client|auth|select|ping)$/ { d = NF == 3 ? $3 - $2 : $2; if (d > 0) print $1, d }')
}
# per_request key: the Redis commands of key's runs per request, "total (command n, …)", a new
# connection's set-up (HELLO, CLIENT) left out. wrk does not count the requests in flight when it
# stops (up to 64 a run), so a slow server's figure reads high; the round trips below are exact.
per_request() {
	local k total=0 parts=()
	[ "${requests[$1]:-0}" -gt 0 ] || { printf 'n/a'; return; }
	for k in $(printf '%s\n' "${!calls[@]}" | grep -F "$1." | sort); do
		total=$((total + calls[$k]))
		parts+=("${k#"$1".} $(awk -v c="${calls[$k]}" -v n="${requests[$1]}" 'BEGIN { printf "%.2f", c / n }')")
	done
	awk -v c="$total" -v n="${requests[$1]}" 'BEGIN { printf "%.2f", c / n }'
	local IFS=,
	[ ${#parts[@]} -gt 0 ] && printf ' (%s)' "${parts[*]}" | sed 's/,/, /g'
}
# roundtrips name path count [body]: the Redis commands server name sends per request, from
# MONITOR over count requests sent one at a time: the lines naming its key prefix, less those a
# Lua script runs (MONITOR marks them "lua"), so a script is one round trip however many keys it
# reads; "total (command n, …; in scripts: command n, …)". Each request comes from an address of
# its own (rate limits).
roundtrips() {
	local mon="$work/$1-monitor.out" m i code
	redis-cli -u "$redis_url" MONITOR >"$mon" &
	m=$!
	sleep 1
	for i in $(seq "$3"); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Origin: ${origin[$1]}" ${cookie[$1]:+-H "Cookie: ${cookie[$1]}"} \
			-H "X-Forwarded-For: 10.255.$((i / 256)).$((i % 256))" ${4:+-H 'Content-Type: application/json' -d "$4"} "${origin[$1]}$2")
		if [ "$code" != 200 ]; then
			echo "$1 $2: $code while counting Redis round trips" >&2
			exit 1
		fi
	done
	sleep 1
	kill "$m"
	wait "$m" 2>/dev/null || true
	awk -v p="\"${prefix[$1]}" -v n="$3" '
		index($0, p) {
			match($0, /\] "[^"]*"/)
			cmd = tolower(substr($0, RSTART + 3, RLENGTH - 4))
			if ($0 ~ /\[[0-9]+ lua\]/) { lua[cmd]++; inner++ }
			else { top[cmd]++; c++ }
		}
		function list(a,   k, s) { s = ""; for (k in a) s = s (s == "" ? "" : ", ") sprintf("%s %.2f", k, a[k] / n); return s }
		END {
			printf "%.2f (%s", c / n, list(top)
			if (inner) printf "; in scripts: %s", list(lua)
			printf ")"
		}' "$mon"
}

# Starvation: get-session from 8 connections alone, then while 64 connections flood sign-in.
flood() { # key name
	echo "  $1 (round $round; get-session during a sign-in flood)" >&2
	settle
	local flood_out="$work/$2-flood.out"
	# The flood's own figures are not reported: with 64 sign-ins queued, a slow server may finish
	# none within a short run.
	BENCH_BODY=$signin_body wrk -t1 -c64 -d"$duration" --timeout 30s -s bench/load.lua \
		-H "Origin: ${origin[$2]}" "${origin[$2]}/api/auth/sign-in/email" >"$flood_out" &
	local f=$!
	sleep 1
	r[$1.$round]=$(load "$2" /api/auth/get-session "" 8 1)
	wait $f
}

# measure_redis_round: the Redis figures of one round, get-session then sign-in with rate limits.
measure_redis_round() {
	measure_redis gs-redis-ours ours-redis /api/auth/get-session
	measure_redis gs-redis-ref reference-redis /api/auth/get-session
	# Each sign-in from an address of its own: the counters are real, none refuses.
	spread=$((round * 4))
	measure signin-redis-ours ours-redis-rl /api/auth/sign-in/email "$signin_body"
	measure signin-redis-ref reference-redis-rl /api/auth/sign-in/email "$signin_body"
	spread=
}

echo "loading: wrk -t$threads -c$conns -d$duration, $rounds rounds (load average before: $loadavg_before)" >&2
for round in $(seq "$rounds"); do
	if [ "$only" = redis ]; then
		measure gs-ours ours /api/auth/get-session
		measure_redis_round
		continue
	fi
	fresh_hit ours-cache
	fresh_hit reference-cache
	# The ceiling gets the request the cache hit gets, cookies and all: it measures what
	# answering costs, not a lighter request.
	cookie[ceiling]=${cookie[ours-cache]}
	measure_hit cache-ours ours-cache
	measure ceiling ceiling /api/auth/get-session
	measure_hit cache-ref reference-cache
	measure gs-ours ours /api/auth/get-session
	measure gs-ref reference /api/auth/get-session
	measure signin-ours ours /api/auth/sign-in/email "$signin_body"
	measure signin-ref reference /api/auth/sign-in/email "$signin_body"
	measure_redis_round
	measure alone-ours ours /api/auth/get-session "" 8 1
	flood flood-ours ours
	measure alone-ref reference /api/auth/get-session "" 8 1
	flood flood-ref reference
done

# Redis round trips, exact and load-independent: get-session, and sign-in (with its rate-limit
# counter), each server alone.
echo "  Redis round trips (MONITOR)" >&2
rt_gs_ours=$(roundtrips ours-redis /api/auth/get-session 100)
rt_gs_ref=$(roundtrips reference-redis /api/auth/get-session 100)
rt_signin_ours=$(roundtrips ours-redis-rl /api/auth/sign-in/email 10 "$signin_body")
rt_signin_ref=$(roundtrips reference-redis-rl /api/auth/sign-in/email 10 "$signin_body")

if [ "$only" != redis ]; then
	# The RSS curve: ours (the DB-path server, which has served every load above) sampled every
	# second from a 64-connection sign-in flood to 60 s after it; VmHWM is the kernel's own
	# high-water mark of the process, which no sampling can miss.
	rss_of() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
	hwm_of() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
	# Ours hashes passwords in a child process (hashproc.go), started by the first sign-in and
	# ended after 10 s idle: its memory is counted with the server's. tree_rss: the server's RSS
	# plus its children's; child_hwm: the largest VmHWM among its children now (0 when none runs).
	tree_rss() {
		local sum c
		sum=$(rss_of "$1")
		for c in $(pgrep -P "$1"); do sum=$((sum + $(rss_of "$c" 2>/dev/null || echo 0))); done
		echo "$sum"
	}
	child_hwm() {
		local top=0 c h
		for c in $(pgrep -P "$1"); do
			h=$(hwm_of "$c" 2>/dev/null || echo 0)
			[ "${h:-0}" -gt "$top" ] && top=$h
		done
		echo "$top"
	}
	echo "  RSS curve: sign-in flood of $duration, then 60 s idle" >&2
	sleep 5
	rss_curve=()
	flood_secs=${duration%s}
	BENCH_BODY=$signin_body wrk -t1 -c64 -d"$duration" --timeout 30s -s bench/load.lua \
		-H "Origin: ${origin[ours]}" "${origin[ours]}/api/auth/sign-in/email" >"$work/curve-flood.out" &
	curve_flood=$!
	hwm_child=0
	for _ in $(seq 0 $((flood_secs + 60))); do
		rss_curve+=("$(tree_rss "${pid[ours]}")")
		h=$(child_hwm "${pid[ours]}")
		[ "$h" -gt "$hwm_child" ] && hwm_child=$h
		sleep 1
	done
	wait $curve_flood
	# The server's own high-water mark (every load of the run) plus its hashing process's through
	# the curve's flood: an upper bound of the two together, whose peaks need not coincide.
	hwm_server=$(hwm_of "${pid[ours]}")
	hwm_ours=$((hwm_server + hwm_child))
	hwm_ref=$(hwm_of "${pid[reference]}")
	rss_ours=${rss_curve[-1]}
	rss_ours_cache=$(rss_of "${pid[ours-cache]}")
	rss_ref=$(rss_of "${pid[reference]}")
	rss_ref_cache=$(rss_of "${pid[reference-cache]}")
	# Settled: the largest sample from 30 s after the flood to the end; the peak: during the flood.
	rss_settled=$(printf '%s\n' "${rss_curve[@]:$((flood_secs + 30))}" | sort -n | tail -1)
	rss_flood_peak=$(printf '%s\n' "${rss_curve[@]:0:$((flood_secs + 1))}" | sort -n | tail -1)
fi
loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)

# stat v...: "median (min–max)" of the values; median v...: the median alone.
stat() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; if (NR == 1) printf "%s", m; else printf "%s (%s–%s)", m, v[1], v[NR] }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%s", v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) printf "n/a"; else printf "%.2f", a / b }'; }
# fig key n: key's nth figure over the rounds; ratios key-a key-b n: a/b within each round.
fig() { local v=(); for i in $(seq "$rounds"); do v+=("$(field "$1" "$2" "$i")"); done; stat "${v[@]}"; }
ratios() { for i in $(seq "$rounds"); do ratio "$(field "$1" "$3" "$i")" "$(field "$2" "$3" "$i")"; echo; done; }
rat() { mapfile -t v < <(ratios "$@"); stat "${v[@]}"; }
medrat() { mapfile -t v < <(ratios "$@"); median "${v[@]}"; }
# stalls key...: each key's host stalls round by round, "key: a, b, c; key: …".
stalls() {
	local k i out=()
	for k in "$@"; do
		local v=()
		for i in $(seq "$rounds"); do v+=("$(field "$k" 5 "$i")"); done
		out+=("$k: $(IFS=,; echo "${v[*]}" | sed 's/,/, /g')")
	done
	(IFS=';'; echo "${out[*]}" | sed 's/;/; /g')
}
# calm_ratios key-a key-b n: a/b within each round in which neither run saw a host stall.
calm_ratios() {
	local i v=()
	for i in $(seq "$rounds"); do
		[ "$(field "$1" 5 "$i")" = 0 ] && [ "$(field "$2" 5 "$i")" = 0 ] && v+=("$(ratio "$(field "$1" "$3" "$i")" "$(field "$2" "$3" "$i")")")
	done
	if [ ${#v[@]} = 0 ]; then printf 'no such round'; else printf '%s, %s of %s rounds' "$(stat "${v[@]}")" ${#v[@]} "$rounds"; fi
}
check() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "n/a") { print "no figure"; exit } ok = op == ">=" ? v >= t : op == "=" ? v == t : v <= t; print ok ? "met" : "**missed**" }'; }

row() { # figure ours reference ratio target verdict
	printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
}
# redis_rows: sessions only in Redis (both servers), beside our Postgres path (the DB path rows).
redis_rows() {
	row "get-session, sessions in Redis: req/s" "$(fig gs-redis-ours 1)" "$(fig gs-redis-ref 1)" "$(rat gs-redis-ours gs-redis-ref 1)" "" ""
	row "get-session, sessions in Redis: p99 ms" "$(fig gs-redis-ours 3)" "$(fig gs-redis-ref 3)" "$(rat gs-redis-ours gs-redis-ref 3)" "" ""
	row "get-session, sessions in Redis / DB path (ours): req/s" "$(rat gs-redis-ours gs-ours 1)" "" "" "≥ 1" "$(check "$(medrat gs-redis-ours gs-ours 1)" 1 '>=')"
	row "get-session, sessions in Redis / DB path (ours): p99" "$(rat gs-redis-ours gs-ours 3)" "" "" "≤ 1" "$(check "$(medrat gs-redis-ours gs-ours 3)" 1 '<=')"
	row "get-session, sessions in Redis: Redis round trips per request (MONITOR)" "$rt_gs_ours" "$rt_gs_ref" "" "ours 1" "$(check "${rt_gs_ours%% *}" 1 '=')"
	row "get-session, sessions in Redis: Redis commands per request over the timed runs (INFO commandstats)" "$(per_request gs-redis-ours)" "$(per_request gs-redis-ref)" "" "" ""
	row "sign-in, sessions and rate limits in Redis: req/s" "$(fig signin-redis-ours 1)" "$(fig signin-redis-ref 1)" "$(rat signin-redis-ours signin-redis-ref 1)" "" ""
	row "sign-in, sessions and rate limits in Redis: p99 ms" "$(fig signin-redis-ours 3)" "$(fig signin-redis-ref 3)" "$(rat signin-redis-ours signin-redis-ref 3)" "" ""
	row "sign-in, sessions and rate limits in Redis: Redis round trips per request (MONITOR)" "$rt_signin_ours" "$rt_signin_ref" "" "" ""
}
table() {
	echo "| figure | ours | reference | ours/reference | target | |"
	echo "|---|---:|---:|---:|---|---|"
	if [ "$only" = redis ]; then
		row "get-session, DB path: req/s" "$(fig gs-ours 1)" "" "" "" ""
		row "get-session, DB path: p99 ms" "$(fig gs-ours 3)" "" "" "" ""
		redis_rows
		return
	fi
	row "get-session, cookie-cache hit: req/s" "$(fig cache-ours 1)" "$(fig cache-ref 1)" "$(rat cache-ours cache-ref 1)" "≥ 20×" "$(check "$(medrat cache-ours cache-ref 1)" 20 '>=')"
	row "get-session, cookie-cache hit: p99 ms" "$(fig cache-ours 3)" "$(fig cache-ref 3)" "$(rat cache-ours cache-ref 3)" "" ""
	row "fixed-200 Go handler, the same request: req/s" "$(fig ceiling 1)" "" "" "" ""
	row "fixed-200 Go handler, the same request: p99 ms" "$(fig ceiling 3)" "" "" "" ""
	row "cookie-cache hit / fixed-200 handler: req/s" "$(rat cache-ours ceiling 1)" "" "" "≥ 0.85" "$(check "$(medrat cache-ours ceiling 1)" 0.85 '>=')"
	row "cookie-cache hit / fixed-200 handler: p99" "$(rat cache-ours ceiling 3)" "" "" "≤ 2" "$(check "$(medrat cache-ours ceiling 3)" 2 '<=')"
	row "host stalls (a CPU not run for ≥ 50 ms, bench/stallprobe) in each round's run" "$(stalls cache-ours ceiling)" "$(stalls cache-ref)" "" "" ""
	row "cookie-cache hit / fixed-200 handler: req/s, rounds with no host stall in either run" "$(calm_ratios cache-ours ceiling 1)" "" "" "" ""
	row "get-session, DB path: req/s" "$(fig gs-ours 1)" "$(fig gs-ref 1)" "$(rat gs-ours gs-ref 1)" "≥ 5×" "$(check "$(medrat gs-ours gs-ref 1)" 5 '>=')"
	row "get-session, DB path: p99 ms" "$(fig gs-ours 3)" "$(fig gs-ref 3)" "$(rat gs-ours gs-ref 3)" "≤ 0.10" "$(check "$(medrat gs-ours gs-ref 3)" 0.1 '<=')"
	row "get-session, DB path: p50 ms" "$(fig gs-ours 2)" "$(fig gs-ref 2)" "$(rat gs-ours gs-ref 2)" "" ""
	row "sign-in: req/s" "$(fig signin-ours 1)" "$(fig signin-ref 1)" "$(rat signin-ours signin-ref 1)" "≥ 1.5×" "$(check "$(medrat signin-ours signin-ref 1)" 1.5 '>=')"
	row "sign-in: p99 ms" "$(fig signin-ours 3)" "$(fig signin-ref 3)" "$(rat signin-ours signin-ref 3)" "" ""
	redis_rows
	row "get-session p99 ms, 8 connections, alone" "$(fig alone-ours 3)" "$(fig alone-ref 3)" "" "" ""
	row "get-session p99 ms, 8 connections, during a sign-in flood" "$(fig flood-ours 3)" "$(fig flood-ref 3)" "" "" ""
	row "flood p99 / alone p99" "$(rat flood-ours alone-ours 3)" "$(rat flood-ref alone-ref 3)" "" "ours ≤ 2" "$(check "$(medrat flood-ours alone-ours 3)" 2 '<=')"
	row "host stalls (a CPU not run for ≥ 50 ms) in each round's run" "$(stalls alone-ours flood-ours)" "$(stalls alone-ref flood-ref)" "" "" ""
	row "flood p99 / alone p99, rounds with no host stall in either run" "$(calm_ratios flood-ours alone-ours 3)" "$(calm_ratios flood-ref alone-ref 3)" "" "" ""
	row "get-session req/s, 8 connections: during the flood" "$(fig flood-ours 1)" "$(fig flood-ref 1)" "" "" ""
	row "get-session req/s, 8 connections: alone" "$(fig alone-ours 1)" "$(fig alone-ref 1)" "" "" ""
	row "RSS MB, high-water mark: DB-path server (VmHWM, every flood included) + its hashing process (the curve's flood): $hwm_server + $hwm_child" "$hwm_ours" "$hwm_ref" "$(ratio "$hwm_ours" "$hwm_ref")" "ours ≤ 150" "$(check "$hwm_ours" 150 '<=')"
	row "RSS MB, largest sample 30–60 s after the curve's flood" "$rss_settled" "" "" "≤ 40" "$(check "$rss_settled" 40 '<=')"
	row "RSS MB at the end, DB-path server (get-session, sign-in, floods)" "$rss_ours" "$rss_ref" "$(ratio "$rss_ours" "$rss_ref")" "≤ 0.20" "$(check "$(ratio "$rss_ours" "$rss_ref")" 0.2 '<=')"
	row "RSS MB at the end, cookie-cache server (get-session only)" "$rss_ours_cache" "$rss_ref_cache" "$(ratio "$rss_ours_cache" "$rss_ref_cache")" "ours ≤ 40" "$(check "$rss_ours_cache" 40 '<=')"
	echo
	echo "RSS of ours in MB, every second from the start of a $duration sign-in flood (64 connections) to 60 s after it; peak while flooded $rss_flood_peak:"
	echo
	echo "    ${rss_curve[*]}"
}
machine() {
	echo "- $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
	echo "- $(go version | cut -d' ' -f3), node $(node --version), $(psql -tA "$admin_url" -c 'SHOW server_version' | cut -d' ' -f1) Postgres, Redis $(redis-cli -u "$redis_url" INFO server | tr -d '\r' | awk -F: '/^redis_version/ { print $2 }'); wrk, servers, Postgres and Redis share the CPUs"
	echo "- wrk -t$threads -c$conns -d$duration per figure (starvation rows: -t1 -c8 get-session, beside -t1 -c64 sign-in); $rounds rounds, ours, the fixed-200 handler and the reference interleaved in each; each cell is the median (min–max) of the rounds, each ratio taken within a round"
	echo "- load average before the run: $loadavg_before; after: $loadavg_after"
}

result=$(
	echo "<!-- bench:begin (bench/run.sh --write rewrites this block) -->"
	machine
	echo
	table
	echo "<!-- bench:end -->"
)
echo "$result"
if $write; then
	python3 - "$result" <<'EOF'
import re, sys
path = "BENCHMARKS.md"
text = open(path).read()
new, n = re.subn(r"<!-- bench:begin.*?<!-- bench:end -->", lambda m: sys.argv[1], text, flags=re.S)
if n != 1:
    sys.exit("BENCHMARKS.md has no bench:begin/bench:end block")
open(path, "w").write(new)
EOF
	echo "BENCHMARKS.md updated" >&2
fi
