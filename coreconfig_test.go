package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCookiePrefixDomainAndLifetimeReachEveryCookie: with a cookie prefix, Secure cookies and
// cross-subdomain cookies set, every cookie the session routes write is named
// __Secure-<prefix>.<name> with Domain= and Secure, the session cookie's Max-Age is
// session.expiresIn, and the server reads the session back from that name (upstream
// packages/better-auth/src/cookies/index.ts, createCookieGetter).
func TestCookiePrefixDomainAndLifetimeReachEveryCookie(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) {
		c.CookiePrefix, c.CookieDomain, c.SecureCookies = "acme", "example.test", true
		c.SessionExpiresIn = time.Hour
		c.CookieCacheMaxAge = 60
	})
	c := ts.client(t)
	r := c.post("/api/auth/sign-up/email", map[string]any{"email": "p@example.com", "password": "password123", "name": "P"})
	r.wantStatus(t, http.StatusOK)
	token := r.setCookie("__Secure-acme.session_token")
	if token == "" || r.setCookie("__Secure-acme.session_data") == "" {
		t.Fatalf("sign-up cookies: %q", r.Header.Values("Set-Cookie"))
	}
	if !strings.Contains(token, "; Max-Age=3600; Domain=example.test; Path=/; HttpOnly; Secure; SameSite=Lax") {
		t.Errorf("session cookie attributes: %s", token)
	}
	for _, line := range r.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(line, "__Secure-acme.") || !strings.Contains(line, "; Domain=example.test;") {
			t.Errorf("a cookie without the prefix or the domain: %s", line)
		}
	}
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	if s := c.get("/api/auth/get-session?disableCookieCache=true").object(t); s["user"] == nil {
		t.Fatalf("the session is not read from the prefixed cookie: %v", s)
	}
	out := c.post("/api/auth/sign-out", nil)
	for _, name := range []string{"session_token", "session_data", "dont_remember"} {
		if l := out.setCookie("__Secure-acme." + name); !strings.Contains(l, "Max-Age=0; Domain=example.test;") {
			t.Errorf("sign-out does not expire %s on the domain: %q", name, l)
		}
	}
}

// TestSignUpOptions: disableSignUp refuses sign-up with upstream's answer while an existing user
// still signs in; autoSignIn false answers token null without a cookie; the password bounds are
// the configured ones (upstream packages/better-auth/src/api/routes/sign-up.ts, signUpEmail).
func TestSignUpOptions(t *testing.T) {
	t.Parallel()
	db, _ := newTestDB(t)
	open := startTestServer(t, db, nil)
	open.client(t).signUp("o@example.com", "password123", "O")

	closed := startTestServer(t, db, nil, func(c *config) { c.DisableSignUp = true })
	c := closed.client(t)
	c.post("/api/auth/sign-up/email", map[string]any{"email": "new@example.com", "password": "password123", "name": "N"}).
		wantError(t, 400, "EMAIL_PASSWORD_SIGN_UP_DISABLED")
	if n := closed.rowCount(t, "user"); n != 1 {
		t.Errorf("users after a refused sign-up: %d", n)
	}
	c.post("/api/auth/sign-in/email", map[string]any{"email": "o@example.com", "password": "password123"}).wantStatus(t, 200)

	manual := startTestServer(t, db, nil, func(c *config) { c.AutoSignIn = false; c.MinPasswordLength = 12; c.MaxPasswordLength = 20 })
	m := manual.client(t)
	r := m.post("/api/auth/sign-up/email", map[string]any{"email": "m@example.com", "password": "password1234", "name": "M"})
	if body := r.wantStatus(t, 200).object(t); body["token"] != nil || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("autoSignIn false: token %v, cookies %q", body["token"], r.Header.Values("Set-Cookie"))
	}
	// An existing email gets the same answer, as upstream's generic duplicate response.
	m.post("/api/auth/sign-up/email", map[string]any{"email": "o@example.com", "password": "password1234", "name": "O"}).wantStatus(t, 200)
	m.post("/api/auth/sign-up/email", map[string]any{"email": "s@example.com", "password": "password123", "name": "S"}).wantError(t, 400, "PASSWORD_TOO_SHORT")
	m.post("/api/auth/sign-up/email", map[string]any{"email": "s@example.com", "password": strings.Repeat("p", 21), "name": "S"}).wantError(t, 400, "PASSWORD_TOO_LONG")
}
