package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Rate limits with upstream's rules (upstream packages/better-auth/src/api/rate-limiter/index.ts),
// keyed "<ip>|<path>". A request over the limit gets 429 with X-Retry-After. The window slides from
// the last allowed request; a refused request does not move it.
//
// The brute-force rules (sign-in, sign-up, two-factor, OTPs, resets, …) live in Postgres, in
// upstream's "rateLimit" table, so that every replica counts against the same limit, with one
// statement per request. The 100-per-10-seconds default on every other path is a flood guard kept
// in memory per replica: it keeps the hot path (get-session) at one query or none.

type rateRule struct {
	name   string // names the rule in the metrics
	window time.Duration
	max    int
	shared bool // counted in Postgres across replicas
}

// rateLimitRules are upstream's rateLimit.window, rateLimit.max and rateLimit.customRules.
type rateLimitRules struct {
	Window int              // seconds of the rule of every other path; 0: upstream's 10
	Max    int              // requests per Window; 0: upstream's 100
	Custom []customRateRule // rateLimit.customRules, in the file's key order
}

// customRateRule is one rateLimit.customRules entry: a path, exact or a wildcard pattern
// (upstream's wildcardMatch with "/" as separator), and what it does to the path's rule.
type customRateRule struct {
	path    string
	pattern *regexp.Regexp // nil: the path must equal path
	off     bool           // false: the path is not limited at all
	keep    bool           // null: the rule in place stays (upstream's falsy value other than false)
	window  time.Duration
	max     int
}

func (c customRateRule) matches(path string) bool {
	if c.pattern != nil {
		return c.pattern.MatchString(path)
	}
	return c.path == path
}

// rateRuleFor returns the rule of path as upstream's resolveRateLimitConfig finds it: the special
// and plugin rules, else rateLimit's window and max; then the first customRules key that matches
// replaces it. limited is false when that key's value is false.
func (s *server) rateRuleFor(path string) (rule rateRule, limited bool) {
	rule, special := specialRateRule(path, s.cfg.Email)
	if !special {
		rule = rateRule{name: "default", window: 10 * time.Second, max: 100}
		if w := s.cfg.RateLimitRules.Window; w > 0 {
			rule.window = time.Duration(w) * time.Second
		}
		if m := s.cfg.RateLimitRules.Max; m > 0 {
			rule.max = m
		}
	}
	for _, c := range s.cfg.RateLimitRules.Custom {
		if !c.matches(path) {
			continue
		}
		switch {
		case c.off:
			return rateRule{}, false
		case !c.keep:
			// Counted in the shared store: a limit the operator wrote down holds across replicas.
			rule = rateRule{name: "custom", window: c.window, max: c.max, shared: true}
		}
		break
	}
	return rule, true
}

// specialRateRule returns the first special rule (upstream's and its plugins', with the plugins'
// rateLimit options) whose path matches.
func specialRateRule(path string, e emailConfig) (rateRule, bool) {
	switch {
	case strings.HasPrefix(path, "/sign-in/magic-link"), strings.HasPrefix(path, "/magic-link/verify"):
		return e.MagicLinkRateLimit.rule("magic-link", 60, 5), true
	case path == "/sign-in/email-otp", path == "/forget-password/email-otp",
		strings.HasPrefix(path, "/email-otp/"):
		return e.OTPRateLimit.rule("email-otp", 60, 3), true
	case strings.HasPrefix(path, "/sign-in"), strings.HasPrefix(path, "/sign-up"),
		strings.HasPrefix(path, "/change-password"), strings.HasPrefix(path, "/change-email"):
		return rateRule{name: "sign-in", window: 10 * time.Second, max: 3, shared: true}, true
	case path == "/request-password-reset", path == "/send-verification-email",
		strings.HasPrefix(path, "/forget-password"):
		return rateRule{name: "email-link", window: time.Minute, max: 3, shared: true}, true
	case strings.HasPrefix(path, "/two-factor/"):
		return rateRule{name: "two-factor", window: 10 * time.Second, max: 3, shared: true}, true
	}
	return rateRule{}, false
}

type memoryLimiter struct {
	mu      sync.Mutex
	entries map[string]rateEntry
	sweep   time.Time
}

type rateEntry struct {
	count int
	last  time.Time
}

// maxMemoryEntries bounds the flood guard's map so that spoofed-looking key floods cannot grow it.
const maxMemoryEntries = 100_000

func (m *memoryLimiter) allow(key string, rule rateRule, now time.Time) (bool, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = map[string]rateEntry{}
	}
	if now.Sub(m.sweep) > rule.window || len(m.entries) >= maxMemoryEntries {
		for k, e := range m.entries {
			if now.Sub(e.last) >= rule.window {
				delete(m.entries, k)
			}
		}
		m.sweep = now
	}
	e, ok := m.entries[key]
	switch {
	case !ok || now.Sub(e.last) >= rule.window:
		if len(m.entries) >= maxMemoryEntries {
			return true, 0 // full of live keys: fail open rather than refuse every new client
		}
		m.entries[key] = rateEntry{count: 1, last: now}
	case e.count >= rule.max:
		return false, e.last.Add(rule.window).Sub(now)
	default:
		m.entries[key] = rateEntry{count: e.count + 1, last: now}
	}
	return true, 0
}

// allowShared counts one request in Postgres. The upsert only writes when the request is allowed
// (the WHERE of DO UPDATE), so a refused request returns no row and leaves the window alone.
func (s *server) allowShared(ctx context.Context, key string, rule rateRule, now time.Time) (bool, time.Duration, error) {
	nowMs := now.UnixMilli()
	windowMs := rule.window.Milliseconds()
	var count int
	err := s.db.QueryRow(ctx, `
		INSERT INTO "rateLimit" (id, key, count, "lastRequest") VALUES ($1, $2, 1, $3)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN $3 - "rateLimit"."lastRequest" >= $4 THEN 1 ELSE "rateLimit".count + 1 END,
			"lastRequest" = $3
		WHERE $3 - "rateLimit"."lastRequest" >= $4 OR "rateLimit".count < $5
		RETURNING count`, generateID(32), key, nowMs, windowMs, rule.max).Scan(&count)
	if err == nil {
		return true, 0, nil
	}
	if !isNoRows(err) {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	var last int64
	if err := s.db.QueryRow(ctx, `SELECT "lastRequest" FROM "rateLimit" WHERE key = $1`, key).Scan(&last); err != nil {
		if isNoRows(err) {
			return true, 0, nil
		}
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	return false, time.Duration(last+windowMs-nowMs) * time.Millisecond, nil
}

// allowSharedRule counts one request against a shared rule where RATE_LIMIT_STORAGE says.
// In Redis it is upstream's secondary-storage limiter (the counter {ip}|{path}, INCR with the
// window as TTL set on the first request, refused past max, retry after the whole window), so a
// Node server sharing the Redis counts against the same limit. While Redis is down the Postgres
// counter stands in: brute-force limits hold through an outage.
func (s *server) allowSharedRule(ctx context.Context, key string, rule rateRule, now time.Time) (bool, time.Duration, error) {
	if s.cfg.Redis.RateLimitStorage != "secondary-storage" || s.redis == nil {
		return s.allowShared(ctx, key, rule, now)
	}
	n, err := s.redis.increment(ctx, key, int64(rule.window/time.Second))
	if err != nil {
		return s.allowShared(ctx, key, rule, now)
	}
	if n <= int64(rule.max) {
		return true, 0, nil
	}
	return false, rule.window, nil
}

// rateLimitKey is upstream's "<ip>|<path>", made storable: the path is the client's to choose,
// so it is cut to 256 bytes (a longer key would overflow the unique index, a 500) and made valid
// UTF-8 without NUL (Postgres refuses anything else, another 500). Long paths sharing a count
// only limits their sender more.
func rateLimitKey(ip, path string) string {
	if len(path) > 256 {
		path = path[:256]
	}
	return ip + "|" + storableText(path)
}

// rule is a plugin's shared rule: its rateLimit option, each part read with || as upstream does.
func (p pluginRateLimit) rule(name string, window, max int) rateRule {
	return rateRule{name: name, window: time.Duration(cmp.Or(p.Window, window)) * time.Second, max: cmp.Or(p.Max, max), shared: true}
}

// rateLimitPath is the path of a request to prefix (the base path) that rules match, as
// upstream's normalizePathname: without the prefix and trailing slashes, "/" for the prefix itself;
// a path outside the prefix stays whole.
func rateLimitPath(p, prefix string) string {
	p = strings.TrimRight(p, "/")
	if p == prefix {
		return "/"
	}
	if rest, ok := strings.CutPrefix(p, prefix); ok && strings.HasPrefix(rest, "/") {
		p = rest
	}
	return cmp.Or(p, "/")
}

// rateLimit runs before routing, as upstream's does, so unknown paths count too.
// A request outside BASE_PATH (not mounted) is limited by its whole path, as upstream's.
func (s *server) rateLimit(w http.ResponseWriter, r *http.Request, mounted bool) (refused bool) {
	if !s.cfg.RateLimit {
		return false
	}
	prefix := basePath // a mounted request's path is the route table's
	if !mounted {
		prefix = s.mountPrefix()
	}
	path := rateLimitPath(r.URL.Path, prefix)
	rule, limited := s.rateRuleFor(path)
	if !limited {
		return false
	}
	key := rateLimitKey(s.clientIP(r), path)
	now := s.now()
	allowed, retry := true, time.Duration(0)
	if rule.shared {
		var err error
		allowed, retry, err = s.allowSharedRule(r.Context(), key, rule, now)
		if err != nil {
			writeError(w, r, err)
			return true
		}
	} else {
		allowed, retry = s.memLimiter.allow(key, rule, now)
	}
	if allowed {
		return false
	}
	s.metrics.rateLimited(rule.name)
	seconds := int((retry + time.Second - 1) / time.Second)
	w.Header().Set("X-Retry-After", strconv.Itoa(max(seconds, 1)))
	writeError(w, r, errTooManyRequests)
	return true
}
