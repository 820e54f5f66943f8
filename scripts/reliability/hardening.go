package main

import (
	"sort"
)

// hardeningFigures are the sections of the adversarial-review hardening (issue 18), each
// rendered when its tests recorded figures.
func renderHardening(p func(string, ...any), byName map[string][]line) {
	if ls := byName["cache reads only"]; len(ls) > 0 {
		p("\n## A revoked session's cookie cache\n\n")
		p("Only `GET /get-session` answers from `session_data`; every other route loads the session from\n")
		p("Postgres (`TestRevokedCachedCookiesOpenNoRouteButGetSession`, walking routes.go with the stolen,\n")
		p("still correctly signed cache cookies of a revoked session, each answer compared with the\n")
		p("answer to no cookie at all):\n\n")
		for _, l := range ls {
			fg := l.Figures
			p("- after %v: %v routes walked, %v of them needing a session answered 401 as to a visitor with no cookie; no 5xx, no row made\n", fg["revocation"], fg["routes"], fg["session_routes"])
		}
	}
	if ls := byName["revocation"]; len(ls) > 0 {
		p("\nInstant revocation across two replicas on one database (`TestRevokedSessionIsRefusedOnEveryReplicaWithinASecond`):\n")
		p("the time from the revoking request's answer on replica A to the first get-session on replica B\n")
		p("that refuses the revoked session's cache cookie (B polls every 5 ms), on the loaded machine whose load\n")
		p("average the check below records:\n\n")
		sort.Slice(ls, func(i, j int) bool { return str(ls[i].Figures["revocation"]) < str(ls[j].Figures["revocation"]) })
		for _, l := range ls {
			p("- %v: %v ms\n", l.Figures["revocation"], l.Figures["ms"])
		}
	}
	for _, l := range byName["revocation check"] {
		fg := l.Figures
		p("\nThe check added to each cache hit (one id looked up among %v recent revocations, `BenchmarkRevocationCheck`):\n", fg["set_size"])
		p("%v ns, %v allocations, measured with load average %v on %v CPUs. The cache hit it is added to is\n", fg["ns_per_op"], fg["allocs_per_op"], fg["load_average"], fg["cpus"])
		p("measured before and after in BENCHMARKS.md.\n")
	}
	for _, l := range byName["host origin"] {
		p("\n## The origin of links without BETTER_AUTH_URL\n\n")
		p("`ENV=production` without `BETTER_AUTH_URL` does not start (`TestProductionWithoutBaseURLRefusesToStart`).\n")
		p("In development, a password-reset request naming another host (`%s`):\n", l.Test)
		p("refused with 400 `UNTRUSTED_HOST`, no token stored, for Host %v; served, the link carrying that origin, for %v.\n", l.Figures["refused"], l.Figures["served"])
	}
	for _, l := range byName["next proxy buckets"] {
		fg := l.Figures
		p("\n## Client addresses through Next.js\n\n")
		p("`%s`: the example app's `/api/auth` route handler (`authRouteHandler`) under `next start`,\n", l.Test)
		p("behind a front proxy that appends the peer address to X-Forwarded-For, in front of the sidecar\n")
		p("with rate limits on; each client binds its own loopback address. Sign-in answers, in order:\n\n")
		p("- one client rotating a forged X-Forwarded-For on each attempt: %v\n", fg["spoofed"])
		attackers, _ := fg["attackers"].(map[string]any)
		for _, a := range sortedKeys(attackers) {
			p("- attacker %s, wrong password: %v\n", a, attackers[a])
		}
		p("- then the owner, from another address, with the right password: %v\n", fg["owner"])
	}
	for _, l := range byName["lockout"] {
		fg := l.Figures
		p("\nIn Go (`%s`): %v attacking addresses, %v failed sign-ins each, %v of them limited; the owner from another address: %v.\n",
			l.Test, fg["addresses"], fg["attempts_each"], fg["limited_addresses"], fg["owner"])
	}
	for _, l := range byName["bounded fields"] {
		p("\n## Bounded fields\n\n`%s`: each bounded field one character (or byte of JSON) over and at its bound;\n", l.Test)
		p("over is 400 naming the field and no table changes; at the bound no answer is about size (a\n")
		p("4xx there is for another reason: the email or slug taken, no such team or passkey, SSO discovery).\n\n| route | field | bound | over | at |\n|---|---|---|---|---|\n")
		cases, _ := l.Figures["cases"].([]any)
		for _, c := range cases {
			m, _ := c.(map[string]any)
			p("| %v | %v | %v | %v | %v |\n", m["route"], m["field"], m["limit"], m["over"], m["at"])
		}
	}
	for _, l := range byName["one cache cookie"] {
		fg := l.Figures
		p("\n`%s`: the largest user the bounds allow gets %v session_data lines (too large once escaped: no cache, read from\n", l.Test, fg["largest_user_cache_lines"])
		p("Postgres); a small user's cache is one cookie of %v bytes; a %v-byte User-Agent is kept as %v characters; a name\n", fg["small_user_cache_bytes"], fg["user_agent_sent"], fg["user_agent_kept"])
		p("grown to 70 000 characters behind the server's back expires the cache instead of chunking it.\n")
	}
	for _, l := range byName["id token once"] {
		p("\n## ID tokens\n\n`%s`: an ID token that signed in once, posted again to the same replica and to a second\n", l.Test)
		p("one on the same database: %v of %v replays refused (401 `INVALID_TOKEN`), no session made. A token with a `nonce`\n", l.Figures["replays_refused"], l.Figures["replays_refused"])
		p("claim posted without it is refused (`TestIDTokenWithANonceIsRefusedWithoutIt`); the error page forbids script and\n")
		p("framing (`TestErrorPageCannotBeFramedOrRunScript`).\n")
	}
}
