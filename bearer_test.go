package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func withBearer(c *config) { c.Bearer.Enabled = true }

// bearerSignedIn signs a user up on a bearer-enabled server and returns the set-auth-token value
// the sign-up answered with, and the session token inside it.
func bearerSignedIn(t *testing.T, ts *testServer, email string) (setAuthToken, token string) {
	t.Helper()
	resp := ts.client(t).post("/api/auth/sign-up/email", map[string]any{"email": email, "password": "password123", "name": "Bearer"})
	resp.wantStatus(t, http.StatusOK)
	setAuthToken = resp.Header.Get("set-auth-token")
	token, ok := ts.verifySigned(setAuthToken)
	if !ok {
		t.Fatalf("set-auth-token %q is not a signed session token", setAuthToken)
	}
	return setAuthToken, token
}

// sessionUserEmail asks get-session with the given headers and returns the user's email, "" for null.
func sessionUserEmail(t *testing.T, c *testClient, header ...string) string {
	t.Helper()
	resp := c.get("/api/auth/get-session", header...).wantStatus(t, http.StatusOK)
	if string(resp.Body) == "null" {
		return ""
	}
	return resp.object(t)["user"].(map[string]any)["email"].(string)
}

// TestBearerSetAuthTokenOnSignUpAndSignIn ensures every answer that sets a live session cookie
// carries its decoded value in set-auth-token, exposed to scripts, and that the server without the
// plugin sends neither header.
func TestBearerSetAuthTokenOnSignUpAndSignIn(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withBearer)
	setAuthToken, _ := bearerSignedIn(t, ts, "sat@example.com")
	if !strings.Contains(setAuthToken, ".") || strings.Contains(setAuthToken, "%") {
		t.Fatalf("set-auth-token %q: want the decoded token.signature", setAuthToken)
	}
	c := ts.client(t)
	resp := c.signIn("sat@example.com", "password123").wantStatus(t, http.StatusOK)
	got := resp.Header.Get("set-auth-token")
	if want, _ := url.PathUnescape(c.cookies[sessionCookie]); got != want {
		t.Fatalf("set-auth-token %q, want the session cookie's value %q", got, want)
	}
	if h := resp.Header.Get("Access-Control-Expose-Headers"); h != "set-auth-token" {
		t.Fatalf("Access-Control-Expose-Headers %q", h)
	}
	// Sign-out expires the cookie: no token.
	out := c.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	if v := out.Header.Get("set-auth-token"); v != "" {
		t.Fatalf("sign-out answered set-auth-token %q", v)
	}

	plain := newTestServer(t)
	resp = plain.client(t).post("/api/auth/sign-up/email", map[string]any{"email": "p@example.com", "password": "password123", "name": "P"})
	if resp.Header.Get("set-auth-token") != "" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Fatalf("bearer off, yet headers %v", resp.Header)
	}
}

// TestBearerAuthorizationHeaderForms ensures the token forms upstream's hook takes stand for the
// session (signed, percent-encoded, bare, any case of the scheme) and that tampered or malformed
// headers are no session: get-session null, a protected route 401, never a 5xx.
func TestBearerAuthorizationHeaderForms(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withBearer)
	signed, token := bearerSignedIn(t, ts, "forms@example.com")
	strict := newTestServer(t, withBearer, func(c *config) { c.Bearer.RequireSignature = true })
	strictSigned, strictToken := bearerSignedIn(t, strict, "strict@example.com")
	tampered := tamperSignature(t, encodeURIComponent(signed))
	tests := []struct {
		name   string
		ts     *testServer
		header string
		valid  bool
	}{
		{"signed", ts, "Bearer " + signed, true},
		{"signed, percent-encoded", ts, "Bearer " + encodeURIComponent(signed), true},
		{"bare token", ts, "Bearer " + token, true},
		{"lowercase scheme", ts, "bearer " + signed, true},
		{"uppercase scheme, padded", ts, "BEARER   " + signed + "  ", true},
		{"signed, signature required", strict, "Bearer " + strictSigned, true},
		{"bare token, signature required", strict, "Bearer " + strictToken, false},
		{"tampered signature", ts, "Bearer " + tampered, false},
		{"signature of another token", ts, "Bearer " + strings.Repeat("x", 32) + signed[strings.Index(signed, "."):], false},
		{"unpadded URL-safe signature", ts, "Bearer " + token + "." + strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(signed[strings.Index(signed, ".")+1:]), "="), false},
		{"extra dot segment", ts, "Bearer " + signed + ".x", false},
		{"scheme only", ts, "Bearer", false},
		{"empty token", ts, "Bearer    ", false},
		{"basic scheme", ts, "Basic " + signed, false},
		{"no space", ts, "Bearer" + signed, false},
		{"bad percent escape", ts, "Bearer " + token + ".%zz", false},
		{"dots only", ts, "Bearer ...", false},
		{"a JWT", ts, "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", false},
		{"non-ASCII", ts, "Bearer \u00e9t\u00e9.\u00e9", false},
		{"bare token of bytes that are not UTF-8", ts, "Bearer \xff\xfe", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.ts.client(t)
			email := sessionUserEmail(t, c, "Authorization", tt.header)
			if tt.valid != (email != "") {
				t.Fatalf("get-session user %q, want a session: %v", email, tt.valid)
			}
			status := c.get("/api/auth/list-sessions", "Authorization", tt.header).Status
			if want := map[bool]int{true: 200, false: 401}[tt.valid]; status != want {
				t.Fatalf("list-sessions status %d, want %d", status, want)
			}
		})
	}
}

// TestBearerRevokedTokenIsUnauthorized ensures a token whose session was signed out through the
// bearer header itself, or revoked from another device, no longer stands for a session.
func TestBearerRevokedTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withBearer)
	signed, _ := bearerSignedIn(t, ts, "revoked@example.com")
	c := ts.client(t)
	auth := []string{"Authorization", "Bearer " + signed, "Origin", ""}
	c.post("/api/auth/sign-out", nil, auth...).wantStatus(t, http.StatusOK)
	if email := sessionUserEmail(t, c, auth...); email != "" {
		t.Fatalf("signed-out bearer token still answers %s", email)
	}
	c.get("/api/auth/list-sessions", auth...).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")

	other, _ := bearerSignedIn(t, ts, "revoked2@example.com")
	browser := ts.client(t)
	browser.signIn("revoked2@example.com", "password123").wantStatus(t, http.StatusOK)
	browser.post("/api/auth/revoke-other-sessions", nil).wantStatus(t, http.StatusOK)
	ts.client(t).get("/api/auth/list-sessions", "Authorization", "Bearer "+other).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
}

// TestBearerWinsOverCookieOfAnotherUser states upstream's precedence: a bearer token whose
// signature checks out replaces the session cookie, so a request carrying A's cookie and B's
// token is B's; a token whose signature fails is ignored and the cookie counts.
func TestBearerWinsOverCookieOfAnotherUser(t *testing.T) {
	t.Parallel()
	ts, a := newSignedInServer(t, "cookie-a@example.com", "A", withBearer)
	signedB, _ := bearerSignedIn(t, ts, "bearer-b@example.com")
	if got := sessionUserEmail(t, a, "Authorization", "Bearer "+signedB); got != "bearer-b@example.com" {
		t.Fatalf("cookie A + bearer B: session of %q, want B", got)
	}
	if got := sessionUserEmail(t, a, "Authorization", "Bearer "+tamperSignature(t, encodeURIComponent(signedB))); got != "cookie-a@example.com" {
		t.Fatalf("cookie A + tampered bearer: session of %q, want A", got)
	}
}

// TestBearerOnlyRequestsSkipTheOriginCheck ensures that, as upstream decides, the CSRF origin
// check applies to requests carrying cookies only: a bearer-only request from any origin is
// served, the same request with a cookie is refused.
func TestBearerOnlyRequestsSkipTheOriginCheck(t *testing.T) {
	t.Parallel()
	ts, a := newSignedInServer(t, "csrf@example.com", "Csrf", withBearer)
	signed, _ := bearerSignedIn(t, ts, "csrf-b@example.com")
	evil := []string{"Origin", "https://evil.example", "Authorization", "Bearer " + signed}
	ts.client(t).post("/api/auth/update-user", map[string]any{"name": "Renamed"}, evil...).wantStatus(t, http.StatusOK)
	a.post("/api/auth/update-user", map[string]any{"name": "Renamed"}, evil...).wantError(t, http.StatusForbidden, "INVALID_ORIGIN")
}
