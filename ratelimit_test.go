package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// newTestClock is a clock fixed at a known instant, for tests that move it by hand.
func newTestClock() *testClock {
	c := &testClock{}
	c.set(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
	return c
}

// rateLimited starts a server with rate limits on, X-Forwarded-For believed from loopback, and
// the given clock; db nil means a fresh database.
func rateLimited(t *testing.T, clock *testClock, db ...*testServer) *testServer {
	t.Helper()
	opts := func(c *config) {
		c.RateLimit = true
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	setup := func(s *server) { s.now = clock.now }
	if len(db) > 0 {
		return startTestServer(t, db[0].db, setup, opts)
	}
	pool, _ := newTestDB(t)
	return startTestServer(t, pool, setup, opts)
}

// wantLimited fails unless resp is upstream's 429 with the given X-Retry-After.
func wantLimited(t testing.TB, resp *testResponse, retryAfter string) {
	t.Helper()
	resp.wantStatus(t, http.StatusTooManyRequests)
	if string(resp.Body) != `{"message":"Too many requests. Please try again later."}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("429 body %s, content type %q", resp.Body, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("X-Retry-After"); got != retryAfter {
		t.Fatalf("X-Retry-After = %q, want %q", got, retryAfter)
	}
}

// TestRateLimitSignInWindowSlidesFromLastAllowed ensures the sign-in rule (3 per 10 s) with
// upstream's algorithm: the fourth request is refused with X-Retry-After, refusals do not move the
// window, and the window restarts from the last allowed request. Unknown paths count too, as
// upstream limits before routing.
func TestRateLimitSignInWindowSlidesFromLastAllowed(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := rateLimited(t, clock)
	c := ts.client(t)
	path := "/api/auth/sign-in/unknown-provider"
	for range 3 {
		c.post(path, nil).wantStatus(t, http.StatusNotFound)
	}
	wantLimited(t, c.post(path, nil), "10")
	clock.advance(9500 * time.Millisecond)
	wantLimited(t, c.post(path, nil), "1")
	clock.advance(500 * time.Millisecond) // 10 s after the last allowed request: a new window
	c.post(path, nil).wantStatus(t, http.StatusNotFound)
	clock.advance(5 * time.Second)
	c.post(path, nil).wantStatus(t, http.StatusNotFound)
	clock.advance(4 * time.Second)
	c.post(path, nil).wantStatus(t, http.StatusNotFound) // third in this window, 9 s after its start
	clock.advance(2 * time.Second)
	wantLimited(t, c.post(path, nil), "8") // counted from the last allowed request, 2 s ago
	clock.advance(7900 * time.Millisecond)
	wantLimited(t, c.post(path, nil), "1")
	clock.advance(100 * time.Millisecond)
	c.post(path, nil).wantStatus(t, http.StatusNotFound)
}

// TestRateLimitKeysByClientAndPath ensures each client address and each path has its own count,
// the address taken from X-Forwarded-For behind a trusted proxy, IPv6 counted per /64.
func TestRateLimitKeysByClientAndPath(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := rateLimited(t, clock)
	c := ts.client(t)
	for range 3 {
		c.post("/api/auth/sign-up/x", nil, "X-Forwarded-For", "203.0.113.7").wantStatus(t, http.StatusNotFound)
	}
	wantLimited(t, c.post("/api/auth/sign-up/x", nil, "X-Forwarded-For", "203.0.113.7"), "10")
	c.post("/api/auth/sign-up/x", nil, "X-Forwarded-For", "203.0.113.8").wantStatus(t, http.StatusNotFound)
	c.post("/api/auth/sign-up/y", nil, "X-Forwarded-For", "203.0.113.7").wantStatus(t, http.StatusNotFound)
	for range 3 {
		c.post("/api/auth/sign-up/x", nil, "X-Forwarded-For", "2001:db8::1").wantStatus(t, http.StatusNotFound)
	}
	wantLimited(t, c.post("/api/auth/sign-up/x", nil, "X-Forwarded-For", "2001:db8::ffff:1"), "10")
	if n := ts.rowCount(t, "rateLimit"); n != 4 {
		t.Fatalf("%d rateLimit rows, want 4 keys", n)
	}
}

// TestRateLimitRules ensures upstream's special rules and defaults: a minute for reset and
// verification mails, 3 per 10 s for change-password, 100 per 10 s for everything else.
func TestRateLimitRules(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := rateLimited(t, clock)
	c := ts.client(t)
	for _, tt := range []struct {
		path  string
		max   int
		retry string
	}{
		{"/api/auth/request-password-reset", 3, "60"},
		{"/api/auth/send-verification-email", 3, "60"},
		{"/api/auth/change-password", 3, "10"},
		{"/api/auth/change-email", 3, "10"},
		{"/api/auth/forget-password/x", 3, "60"},
		{"/api/auth/ok", 100, "10"},
	} {
		for i := range tt.max {
			if resp := c.post(tt.path, nil); resp.Status == http.StatusTooManyRequests {
				t.Fatalf("%s: request %d of %d refused", tt.path, i+1, tt.max)
			}
		}
		wantLimited(t, c.post(tt.path, nil), tt.retry)
	}
}

// TestRateLimitIsSharedBetweenReplicas ensures two servers on one database count sign-ins
// together (TestSignInFloodAcrossReplicasPassesOnlyTheLimit races 200 of them).
func TestRateLimitIsSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	a := rateLimited(t, clock)
	b := rateLimited(t, clock, a)
	path := "/api/auth/sign-in/email"
	body := map[string]any{"email": "nobody@example.com", "password": "password123"}
	a.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	b.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	a.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	wantLimited(t, b.client(t).post(path, body), "10")
	wantLimited(t, a.client(t).post(path, body), "10")

}

// TestRateLimitOff ensures RATE_LIMIT=false lets every request through.
func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	for range 10 {
		c.post("/api/auth/sign-in/x", nil).wantStatus(t, http.StatusNotFound)
	}
	if n := ts.rowCount(t, "rateLimit"); n != 0 {
		t.Fatalf("%d rateLimit rows with limits off", n)
	}
}

// TestRateLimitSurvivesHostilePaths ensures paths Postgres cannot store as a key (invalid UTF-8,
// NUL, kilobytes long) are limited like any other instead of failing with a 500.
func TestRateLimitSurvivesHostilePaths(t *testing.T) {
	t.Parallel()
	ts := rateLimited(t, newTestClock())
	c := ts.client(t)
	for i, p := range []string{"%ff", "%00", "%c3", strings.Repeat("%e2%80%a8x9Q", 1500)} {
		ip := fmt.Sprintf("203.0.113.%d", i+1) // invalid bytes all read as U+FFFD: one key per client
		for range 3 {
			c.post("/api/auth/sign-in/"+p, nil, "X-Forwarded-For", ip).wantStatus(t, http.StatusNotFound)
		}
		wantLimited(t, c.post("/api/auth/sign-in/"+p, nil, "X-Forwarded-For", ip), "10")
	}
}

// FuzzRateLimitKey ensures every path gives a key Postgres can store in the unique index: valid
// UTF-8, no NUL, bounded length.
func FuzzRateLimitKey(f *testing.F) {
	for _, p := range []string{"/sign-in/email", "/sign-in/\xff", "/\x00", strings.Repeat("\xc3", 600), ""} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		key := rateLimitKey("2001:0db8:0000:0000:0000:0000:0000:0000", path)
		if !utf8.ValidString(key) || strings.ContainsRune(key, 0) || len(key) > 39+1+3*256 {
			t.Fatalf("key %q (%d bytes) cannot be stored", key, len(key))
		}
	})
}

// TestRateLimitInRedisIsUpstreamsCounter ensures RATE_LIMIT_STORAGE=secondary-storage counts
// shared rules as upstream's Redis limiter does, across replicas: the counter {ip}|{path} is
// INCRed with the window as its TTL, the fourth sign-in within 10 s is refused with the whole
// window as X-Retry-After, and nothing is written to the rateLimit table.
func TestRateLimitInRedisIsUpstreamsCounter(t *testing.T) {
	t.Parallel()
	redisOpt := withRedis(t, true, true)
	opts := func(c *config) {
		c.RateLimit = true
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		redisOpt(c)
	}
	pool, _ := newTestDB(t)
	a := startTestServer(t, pool, nil, opts)
	b := startTestServer(t, pool, nil, opts)
	path := "/api/auth/sign-in/email"
	body := map[string]any{"email": "nobody@example.com", "password": "password123"}
	a.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	b.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	a.client(t).post(path, body).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	wantLimited(t, b.client(t).post(path, body), "10")
	rc := testRedisClient(t)
	key := a.cfg.Redis.KeyPrefix + "127.0.0.1|/sign-in/email"
	if n, err := rc.Get(context.Background(), key).Int(); err != nil || n != 4 {
		t.Fatalf("counter %s = %d (%v), want 4", key, n, err)
	}
	if ttl := rc.TTL(context.Background(), key).Val(); ttl <= 0 || ttl > 10*time.Second {
		t.Fatalf("counter TTL %v, want the 10 s window", ttl)
	}
	if n := a.rowCount(t, "rateLimit"); n != 0 {
		t.Fatalf("%d rateLimit rows with Redis counting", n)
	}
}

// TestRateLimitConfigFileRules ensures rateLimit.window, max and customRules change the limits
// as upstream's resolveRateLimitConfig does: window and max replace the default rule of paths
// without a special rule; the first customRules key matching the path, exact or a wildcard,
// replaces whatever rule the path had; false turns the path's limit off; null keeps the rule in
// place.
func TestRateLimitConfigFileRules(t *testing.T) {
	t.Parallel()
	file := fromConfigFile(t, `{"rateLimit": {"enabled": true, "window": 30, "max": 5, "customRules": {
		"/sign-in/email": {"window": 60, "max": 1},
		"/two-factor/*": false,
		"/sign-up/email": null,
		"/sign-up/*": {"window": 1, "max": 1},
		"/ok": {"window": 20, "max": 2}
	}}}`, nil)
	clock := newTestClock()
	pool, _ := newTestDB(t)
	ts := startTestServer(t, pool, func(s *server) { s.now = clock.now }, func(c *config) {
		c.RateLimit, c.RateLimitRules = file.RateLimit, file.RateLimitRules
	})
	c := ts.client(t)
	for _, tt := range []struct {
		name, path string
		max        int    // requests allowed; 0: never limited (20 tried)
		retry      string // X-Retry-After of the next one
	}{
		{"an exact custom rule replaces the special sign-in rule", "/api/auth/sign-in/email", 1, "60"},
		{"false turns a wildcard's paths off", "/api/auth/two-factor/verify-totp", 0, ""},
		{"null keeps the special rule, and stops the search", "/api/auth/sign-up/email", 3, "10"},
		{"a custom rule replaces the default rule", "/api/auth/ok", 2, "20"},
		{"window and max make the default rule", "/api/auth/no-such-route", 5, "30"},
		{"other special paths keep their rule", "/api/auth/sign-in/social", 3, "10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tries := tt.max
			if tries == 0 {
				tries = 20
			}
			for i := range tries {
				if resp := c.post(tt.path, nil); resp.Status == http.StatusTooManyRequests {
					t.Fatalf("request %d of %d refused", i+1, tries)
				}
			}
			if tt.max > 0 {
				wantLimited(t, c.post(tt.path, nil), tt.retry)
			}
		})
	}
	if n := ts.rowCount(t, "rateLimit"); n != 4 {
		t.Errorf("%d rateLimit rows, want one per shared rule used (the default rule counts in memory, an unlimited path nowhere)", n)
	}
}

// TestRateLimitWildcardIsUpstreams ensures customRules patterns match as upstream's wildcardMatch
// does: testdata/wildcard.json holds its answers for each pattern and path, from the reference's
// better-auth/dist/utils/wildcard.mjs.
func TestRateLimitWildcardIsUpstreams(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Pattern, Path string
		Match         bool
	}
	data, err := os.ReadFile("testdata/wildcard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cases); err != nil || len(cases) < 100 {
		t.Fatalf("%d cases: %v", len(cases), err)
	}
	for _, c := range cases {
		if got := wildcardPattern(c.Pattern).MatchString(c.Path); got != c.Match {
			t.Errorf("%q matches %q: %v, upstream %v", c.Pattern, c.Path, got, c.Match)
		}
	}
}
