// Command reliability renders RELIABILITY.md from the JSON lines the reliability tests and fuzz
// runs record (scripts/reliability.sh). Every figure in the document is read from those lines.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

type line struct {
	Test    string         `json:"test"`
	Name    string         `json:"name"`
	Figures map[string]any `json:"figures"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: reliability FIGURES.jsonl > RELIABILITY.md")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

func run(path string, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	byName := map[string][]line{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("figures line %q: %w", sc.Text(), err)
		}
		byName[l.Name] = append(byName[l.Name], l)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, want := range []string{"bad input", "redirects", "race", "wrong codes", "rate limit", "constant time", "outage", "shutdown", "fuzz"} {
		if len(byName[want]) == 0 {
			return fmt.Errorf("no %q figures recorded: did its test run?", want)
		}
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }

	p("# Reliability\n\n")
	p("Measured figures from the tests that prove the sidecar's reliability and security claims.\n")
	p("Regenerate with `scripts/reliability.sh` (runs the test suite and every fuzz target, then\n")
	p("renders this file from what they recorded); nothing here is typed in by hand.\n\n")

	p("## Bad input on every route\n\n")
	p("`TestEveryRouteRefusesBadInput` reads the route table from routes.go. Every POST route gets\n")
	p("malformed JSON, wrong types, unknown fields, empty, oversized and NUL-bearing bodies, wrong\n")
	p("content types and an adversarial callback form in each callback field (the forms rotate over\n")
	p("the routes), signed in and signed out: each is a 4xx Better Auth error and no table changes.\n")
	p("Hostile strings (300-character emails, RTL overrides, combining characters, SQL- and\n")
	p("LIKE-looking text) in each route's required fields, and in every query parameter a handler\n")
	p("reads on the GET routes, are never a 5xx (they may succeed where the text is valid, e.g. an\n")
	p("organization name).\n\n")
	for _, l := range byName["bad input"] {
		fg := l.Figures
		p("- Routes: %v POST, %v GET; query parameters read by handlers: %v\n", fg["post_routes"], fg["get_routes"], fg["query_params"])
		p("- Requests: %v\n", fg["requests"])
		states, _ := fg["statuses"].(map[string]any)
		for _, s := range sortedKeys(states) {
			p("- Answers %s: %s\n", s, statuses(states[s]))
		}
	}
	p("\n## Redirect targets\n\n")
	for _, l := range byName["redirects"] {
		fg := l.Figures
		if _, ok := fg["targets"]; ok {
			p("- `%s`: %v adversarial and allowed targets, %v requests (four body fields, a POST's query, every email link's query targets); every refused target answered 403 with its field's code\n", l.Test, fg["targets"], fg["requests"])
		} else {
			p("- `%s`: %v routes × %v of the %v adversarial forms (rotating) in every callback query parameter, signed in and out: %v requests, %v redirects checked, none to an untrusted URL\n", l.Test, fg["routes"], fg["forms_per_route"], fg["forms"], fg["requests"], fg["redirects_checked"])
		}
	}

	p("\n## Races on single-use things\n\n")
	p("| Thing | Uses at once | Successes | Answers | Test |\n|---|---|---|---|---|\n")
	races := byName["race"]
	sort.Slice(races, func(i, j int) bool { return str(races[i].Figures["thing"]) < str(races[j].Figures["thing"]) })
	for _, l := range races {
		fg := l.Figures
		p("| %s | %v | %v | %s | `%s` |\n", fg["thing"], fg["attempts"], fg["successes"], statuses(fg["statuses"]), l.Test)
	}
	p("\n### Wrong codes sent at once\n\n")
	p("| Code | Sent at once | Counted | Answers | Test |\n|---|---|---|---|---|\n")
	for _, l := range byName["wrong codes"] {
		fg := l.Figures
		counted := str(fg["counted"])
		if locked, ok := fg["locked"].(bool); ok && locked {
			counted += " (account locked)"
		}
		p("| %s | %v | %s | %s | `%s` |\n", fg["thing"], fg["attempts"], counted, statuses(fg["statuses"]), l.Test)
	}

	p("\n## Abuse\n\n")
	for _, l := range byName["rate limit"] {
		fg := l.Figures
		p("- Rate limit across %v replicas on one database: %v sign-in attempts at once from one address, limit %v: %v passed (%s)\n",
			fg["replicas"], fg["attempts"], fg["limit"], fg["passed"], statuses(fg["statuses"]))
	}
	for _, l := range byName["constant time"] {
		p("- Constant-time comparisons: %v comparisons in the server's source walked; none uses == or != on a secret-named value\n", l.Figures["comparisons"])
	}
	p("- Unknown emails: one scrypt run per sign-in whatever the email (`TestUnknownEmailCostsOneScrypt`); IPv6 is limited per /64 and X-Forwarded-For is read only from TRUSTED_PROXIES (`TestClientIP`, `TestRateLimitKeysByClientAndPath`)\n")

	p("\n## Postgres outage under load\n\n")
	for _, l := range byName["outage"] {
		fg := l.Figures
		p("%v workers send sign-ups, organization creations and session reads while the connection to\n", fg["workers"])
		p("Postgres is cut for %v ms and restored (`%s`). Answers by the phase a request was sent in:\n\n", fg["outage_ms"], l.Test)
		phases, _ := fg["statuses"].(map[string]any)
		for _, ph := range []string{"before", "outage", "after"} {
			p("- %s: %s\n", ph, statuses(phases[ph]))
		}
		p("- Requests: %v; in flight across a phase change and answered: %s; transport failures: %v\n", fg["requests"], counts(fg["in_flight_answered"]), fg["failures"])
		p("- Recovered %v ms after Postgres came back, without a restart; no user without its account, no organization without a member\n", fg["recovery_ms"])
	}

	p("\n## Redis outage under load\n\n")
	for _, l := range byName["redis outage"] {
		fg := l.Figures
		p("Sessions %v: %v workers read get-session with several sessions while the connection to Redis\n", fg["arrangement"], fg["workers"])
		p("is cut for %v ms, one session signs out during the cut, and Redis is restored (`%s`).\n\n", fg["outage_ms"], l.Test)
		phases, _ := fg["statuses"].(map[string]any)
		for _, ph := range []string{"before", "outage", "after"} {
			p("- %s: %s\n", ph, statuses(phases[ph]))
		}
		p("- Sessions lost (a valid cookie answered null): %s; resurrected after the outage: %v; transport failures: %v\n", counts(fg["lost"]), fg["resurrected"], fg["failures"])
		p("- Recovered (Redis read again, its stale keys deleted) %v ms after Redis came back\n\n", fg["recovery_ms"])
	}

	p("\n## SIGTERM under load\n\n")
	for _, l := range byName["shutdown"] {
		fg := l.Figures
		p("%v workers send sign-ups and session reads to the real binary; SIGTERM arrives mid-stream\n(`%s`).\n\n", fg["workers"], l.Test)
		phases, _ := fg["statuses"].(map[string]any)
		p("- Requests: %v; answered: %s\n", fg["requests"], phaseStatuses(phases))
		p("- In flight at SIGTERM and answered: %s\n", counts(fg["in_flight_answered"]))
		p("- Connections refused once the listener closed: %s\n", counts(fg["refused"]))
		p("- Connections reset in the kernel's accept queue as the listener closed (never taken by the server): %v\n", fg["reset_in_accept_queue"])
		p("- Exit code %v, %v ms after SIGTERM (grace period %v ms); every stored sign-up was answered 200\n", fg["exit_code"], fg["drain_ms"], fg["grace_ms"])
	}

	renderHardening(p, byName)

	p("\n## Fuzzing\n\n| Target | Executions | Seconds (with compilation) | New interesting inputs |\n|---|---|---|---|\n")
	fuzz := byName["fuzz"]
	sort.Slice(fuzz, func(i, j int) bool { return str(fuzz[i].Figures["target"]) < str(fuzz[j].Figures["target"]) })
	for _, l := range fuzz {
		fg := l.Figures
		p("| %v | %v | %v | %v |\n", fg["target"], fg["execs"], fg["seconds"], fg["new_interesting"])
	}
	p("\nCrashers found are kept under testdata/fuzz/ and run by every `go test`.\n")
	return nil
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// statuses writes a status -> count map as "200 ×1, 400 ×49".
func statuses(v any) string { return pairs(v, " ×") }

// counts writes a label -> count map as "before → draining: 3".
func counts(v any) string { return pairs(v, ": ") }

func pairs(v any, sep string) string {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+sep+str(m[k]))
	}
	return strings.Join(parts, ", ")
}

func phaseStatuses(m map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+" "+statuses(m[k]))
	}
	return strings.Join(parts, "; ")
}
