package main

import (
	"maps"
	"net/http"
	"strings"
	"testing"
)

// TestOversizedFieldsAreRefusedAndNothingIsStored walks every client-writable text with a bound
// (limits.go): one character over is 400 VALIDATION_ERROR naming the field, and no table gains
// or loses a row; at the bound it is not refused for its size. The attack: a 900 000-character
// name stored, a 300 000-character slug answered with a 500 from its index.
func TestOversizedFieldsAreRefusedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) {
		c.SSO.DomainVerification = true
	})
	owner := ts.client(t)
	owner.signUp("bounds@example.com", "password123", "Bounds")
	orgID := createOrg(t, owner, "bounds")
	metadata := func(n int) map[string]any { return map[string]any{"k": strings.Repeat("m", n)} }
	const metaOverhead = len(`{"k":""}`)
	cases := []struct {
		route string
		field string // as the message names it
		body  func(v any) map[string]any
		limit int
		value func(n int) any
	}{
		{"/api/auth/sign-up/email", "body.name", func(v any) map[string]any {
			return map[string]any{"email": "new@example.com", "password": "password123", "name": v}
		}, 256, nil},
		{"/api/auth/sign-up/email", "body.image", func(v any) map[string]any {
			return map[string]any{"email": "new@example.com", "password": "password123", "name": "N", "image": v}
		}, 2048, nil},
		{"/api/auth/update-user", "body.name", func(v any) map[string]any { return map[string]any{"name": v} }, 256, nil},
		{"/api/auth/update-user", "body.image", func(v any) map[string]any { return map[string]any{"image": v} }, 2048, nil},
		{"/api/auth/organization/create", "body.name", func(v any) map[string]any { return map[string]any{"name": v, "slug": "o1"} }, 256, nil},
		{"/api/auth/organization/create", "body.slug", func(v any) map[string]any { return map[string]any{"name": "O", "slug": v} }, 256, nil},
		{"/api/auth/organization/create", "body.logo", func(v any) map[string]any { return map[string]any{"name": "O", "slug": "o2", "logo": v} }, 2048, nil},
		{"/api/auth/organization/create", "body.metadata", func(v any) map[string]any { return map[string]any{"name": "O", "slug": "o3", "metadata": v} },
			8 << 10, func(n int) any { return metadata(n - metaOverhead) }},
		{"/api/auth/organization/update", "body.data.name", func(v any) map[string]any {
			return map[string]any{"organizationId": orgID, "data": map[string]any{"name": v}}
		}, 256, nil},
		{"/api/auth/organization/update", "body.data.slug", func(v any) map[string]any {
			return map[string]any{"organizationId": orgID, "data": map[string]any{"slug": v}}
		}, 256, nil},
		{"/api/auth/organization/update", "body.data.metadata", func(v any) map[string]any {
			return map[string]any{"organizationId": orgID, "data": map[string]any{"metadata": v}}
		}, 8 << 10, func(n int) any { return metadata(n - metaOverhead) }},
		{"/api/auth/organization/create-team", "body.name", func(v any) map[string]any {
			return map[string]any{"organizationId": orgID, "name": v}
		}, 256, nil},
		{"/api/auth/organization/update-team", "body.data.name", func(v any) map[string]any {
			return map[string]any{"teamId": "no-such-team", "data": map[string]any{"name": v}}
		}, 256, nil},
		{"/api/auth/passkey/update-passkey", "body.name", func(v any) map[string]any { return map[string]any{"id": "no-such-passkey", "name": v} }, 256, nil},
		{"/api/auth/sso/register", "body.providerId", func(v any) map[string]any {
			return map[string]any{"providerId": v, "issuer": "https://idp.example.com", "domain": "example.com"}
		}, 256, nil},
		{"/api/auth/sso/register", "body.issuer", func(v any) map[string]any {
			return map[string]any{"providerId": "p", "issuer": v, "domain": "example.com"}
		}, 2048, func(n int) any {
			return "https://idp.example.com/" + strings.Repeat("i", n-len("https://idp.example.com/"))
		}},
		{"/api/auth/sso/register", "body.domain", func(v any) map[string]any {
			return map[string]any{"providerId": "p", "issuer": "https://idp.example.com", "domain": v}
		}, 1024, nil},
		{"/api/auth/sso/register", "body.oidcConfig", func(v any) map[string]any {
			return map[string]any{"providerId": "p", "issuer": "https://idp.example.com", "domain": "example.com", "oidcConfig": v}
		}, 16 << 10, func(n int) any { return map[string]any{"clientId": strings.Repeat("c", n-len(`{"clientId":""}`))} }},
	}
	var bounds []map[string]any
	for _, tc := range cases {
		value := tc.value
		if value == nil {
			value = func(n int) any { return strings.Repeat("é", n) } // characters, not bytes
		}
		before := ts.tableCounts(t)
		c := ts.client(t)
		maps.Copy(c.cookies, owner.cookies)
		resp := c.post(tc.route, tc.body(value(tc.limit+1)))
		var e struct{ Code, Message string }
		resp.decode(t, &e)
		if resp.Status != http.StatusBadRequest || e.Code != "VALIDATION_ERROR" || !strings.Contains(e.Message, "["+tc.field+"] Too big") {
			t.Errorf("%s %s over its bound: %d %s", tc.route, tc.field, resp.Status, resp.Body)
		}
		if after := ts.tableCounts(t); !maps.Equal(before, after) {
			t.Errorf("%s %s over its bound changed the tables: %v -> %v", tc.route, tc.field, before, after)
		}
		atLimit := c.post(tc.route, tc.body(value(tc.limit)))
		if strings.Contains(string(atLimit.Body), "Too big") {
			t.Errorf("%s %s at its bound refused: %s", tc.route, tc.field, atLimit.Body)
		}
		bounds = append(bounds, map[string]any{"route": strings.TrimPrefix(tc.route, basePath), "field": tc.field, "limit": tc.limit, "over": resp.Status, "at": atLimit.Status})
	}
	recordFigures(t, "bounded fields", map[string]any{"cases": bounds})
}

// TestNoRequestMakesMoreThanOneSessionDataCookie: the largest user the bounds allow (a name of
// control characters, each six bytes once escaped for the cache, the longest image) signing up
// with a 60 KB User-Agent, and a user whose over-long name was written straight to the
// database, get at most one session_data cookie of at most 4050 bytes, never a chunk; the one
// too large for a cookie has none and is read from Postgres. The attack: a 70 000-character name
// made 25 chunks, and every later request from that browser got 431.
func TestNoRequestMakesMoreThanOneSessionDataCookie(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.CookieCacheMaxAge = 300 })
	c := ts.client(t)
	resp := c.post("/api/auth/sign-up/email", map[string]any{"email": "big@example.com", "password": "password123",
		"name": strings.Repeat("\u0007", 256), "image": "https://img.example.com/" + strings.Repeat("i", 2048-24)},
		"User-Agent", strings.Repeat("u", 60<<10))
	resp.wantStatus(t, http.StatusOK)
	largest := wantOneCacheCookie(t, resp)

	c = ts.client(t)
	c.post("/api/auth/sign-up/email", map[string]any{"email": "grown@example.com", "password": "password123", "name": "Grown"},
		"User-Agent", strings.Repeat("u", 60<<10)).wantStatus(t, http.StatusOK)
	if c.cookies[sessionDataCookie] == "" {
		t.Fatal("a small user got no cookie cache")
	}
	ts.exec(t, `UPDATE "user" SET name = $1 WHERE email = 'grown@example.com'`, strings.Repeat("n", 70000))
	small := c.cookies[sessionDataCookie]
	again := c.get("/api/auth/get-session?disableCookieCache=true")
	wantOneCacheCookie(t, again)
	if again.setCookie(sessionDataCookie) == "" || !strings.Contains(again.setCookie(sessionDataCookie), "Max-Age=0") {
		t.Fatalf("the stale cache was not expired: %q", again.Header.Values("Set-Cookie"))
	}
	var got authSession
	c.get("/api/auth/get-session").decode(t, &got)
	if len(got.User.Name) != 70000 || got.Session.UserAgent == nil || len(*got.Session.UserAgent) != maxUserAgent {
		t.Fatalf("get-session from Postgres: name %d bytes, user agent %v", len(got.User.Name), got.Session.UserAgent)
	}
	recordFigures(t, "one cache cookie", map[string]any{"largest_user_cache_lines": largest, "small_user_cache_bytes": len(small), "user_agent_sent": 60 << 10, "user_agent_kept": maxUserAgent})
}

// wantOneCacheCookie fails unless resp sets at most one session_data cookie line, unchunked and
// within a cookie's size, and returns how many it set.
func wantOneCacheCookie(t *testing.T, resp *testResponse) int {
	t.Helper()
	n := 0
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, sessionDataCookie+".") && !strings.Contains(line, "Max-Age=0") {
			t.Fatalf("a session_data chunk: %.80s", line)
		}
		if strings.HasPrefix(line, sessionDataCookie+"=") {
			n++
			if len(line) > maxCookieSize {
				t.Fatalf("session_data line of %d bytes", len(line))
			}
		}
	}
	if n > 1 {
		t.Fatalf("%d session_data cookies", n)
	}
	return n
}
