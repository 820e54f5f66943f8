package main

import (
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ageSession moves a session's timestamps d into the past, as if it had been created then.
func (ts *testServer) ageSession(t testing.TB, token string, d time.Duration) {
	t.Helper()
	ts.exec(t, `UPDATE session SET "createdAt" = "createdAt" - $2::interval,
		"updatedAt" = "updatedAt" - $2::interval, "expiresAt" = "expiresAt" - $2::interval WHERE token = $1`,
		token, d.String())
}

var expiredCookieLines = []string{
	"better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
	"better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
	"better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
}

// wantCookiesCleared fails unless resp expires exactly upstream's three session cookies.
func wantCookiesCleared(t testing.TB, resp *testResponse) {
	t.Helper()
	got := resp.Header.Values("Set-Cookie")
	if strings.Join(got, "\n") != strings.Join(expiredCookieLines, "\n") {
		t.Fatalf("Set-Cookie = %q, want %q", got, expiredCookieLines)
	}
}

// anyJSDate matches an ISO-8601 string anywhere in a body, so that every date can be checked for
// the JS Date.toJSON() shape.
var anyJSDate = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T[^"]*"`)

func wantJSDates(t testing.TB, body []byte) {
	t.Helper()
	dates := anyJSDate.FindAll(body, -1)
	if len(dates) == 0 {
		t.Fatalf("no dates in %s", body)
	}
	for _, d := range dates {
		if !jsDateRE.Match(d[1 : len(d)-1]) {
			t.Fatalf("date %s is not ISO-8601 with exactly 3 fractional digits and Z", d)
		}
	}
}

// TestGetSessionWithoutCookieIsNull ensures a signed-out get-session answers the literal null with
// upstream's no-store headers and sets no cookie.
func TestGetSessionWithoutCookieIsNull(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.client(t).get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	if string(resp.Body) != "null" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("body %q, content type %q", resp.Body, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %v", resp.Header)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookies %q", resp.Header.Values("Set-Cookie"))
	}
}

// TestGetSessionReturnsSessionAndUser ensures the body is {session, user} with every column, the
// token included, and JS-shaped dates; a fresh session is not rewritten.
func TestGetSessionReturnsSessionAndUser(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "gs@example.com", "Get Session")
	resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "get-session", resp)
	wantJSDates(t, resp.Body)
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("fresh session rewrote cookies %q", resp.Header.Values("Set-Cookie"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("no Cache-Control: no-store")
	}
}

// TestGetSessionSlidesExpiryAfterUpdateAge ensures a session last extended more than a day ago is
// extended to seven days from now and its cookie rewritten, createdAt unchanged; and that
// disableRefresh (any non-empty value, as z.coerce.boolean reads it) stops that.
func TestGetSessionSlidesExpiryAfterUpdateAge(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "slide@example.com", "Slide")
	token := c.cookieToken()
	ts.ageSession(t, token, 25*time.Hour)
	before := ts.sessionRow(t, token)

	for _, q := range []string{"disableRefresh=true", "disableRefresh=false", "disableRefresh=0"} {
		resp := c.get("/api/auth/get-session?"+q).wantStatus(t, http.StatusOK)
		if len(resp.Header.Values("Set-Cookie")) != 0 || ts.sessionRow(t, token).ExpiresAt != before.ExpiresAt {
			t.Fatalf("%s: session refreshed", q)
		}
	}
	c.get("/api/auth/get-session?disableRefresh=").wantStatus(t, http.StatusOK)
	after := ts.sessionRow(t, token)
	if after.ExpiresAt == before.ExpiresAt {
		t.Fatal("an empty disableRefresh is false, yet the session was not refreshed")
	}

	ts.ageSession(t, token, 25*time.Hour)
	before = ts.sessionRow(t, token)
	resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	after = ts.sessionRow(t, token)
	if line := resp.setCookie(sessionCookie); !rememberedSessionLine.MatchString(line) || c.cookieToken() != token {
		t.Fatalf("refresh cookie = %q", line)
	}
	if got := after.ExpiresAt.Time().Sub(after.UpdatedAt.Time()); got != defaultSessionExpiresIn {
		t.Fatalf("refreshed expiry is %v after updatedAt, want 7 days", got)
	}
	if !after.UpdatedAt.Time().After(before.UpdatedAt.Time()) || after.CreatedAt != before.CreatedAt {
		t.Fatalf("before %+v, after %+v", before, after)
	}
	var body authSession
	resp.decode(t, &body)
	if body.Session.ExpiresAt != after.ExpiresAt {
		t.Fatalf("body expiresAt %v, row %v", body.Session.ExpiresAt.Time(), after.ExpiresAt.Time())
	}

	// Not due again: a day has not passed since this refresh.
	ts.ageSession(t, token, 23*time.Hour)
	if got := c.get("/api/auth/get-session").Header.Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("refreshed again within updateAge: %q", got)
	}
}

// TestGetSessionExpiredSessionIsDeleted ensures an expired session answers null, expires the
// cookies and is deleted.
func TestGetSessionExpiredSessionIsDeleted(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "expired@example.com", "Expired")
	token := c.cookieToken()
	ts.ageSession(t, token, defaultSessionExpiresIn+time.Second)
	cookie := c.cookies[sessionCookie]
	resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	if string(resp.Body) != "null" {
		t.Fatalf("body %s", resp.Body)
	}
	wantCookiesCleared(t, resp)
	ts.wantRows(t, "session", 0)
	// The same cookie is refused everywhere now.
	c.cookies[sessionCookie] = cookie
	c.get("/api/auth/list-sessions").wantError(t, 401, "UNAUTHORIZED")
}

// TestGetSessionUnknownOrForgedCookie ensures a well-signed cookie for a deleted session clears the
// cookies, and a forged or malformed one is treated as absent, as upstream's getSignedCookie does.
func TestGetSessionUnknownOrForgedCookie(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "forged@example.com", "Forged")
	good := c.cookies[sessionCookie]
	token := c.cookieToken()
	tests := []struct {
		name    string
		cookie  string
		cleared bool
	}{
		{"signed token of no session", encodeURIComponent(ts.sign(strings.Repeat("a", 32))), true},
		{"signature of another token", encodeURIComponent(strings.Repeat("b", 32) + good[strings.LastIndex(good, "."):]), false},
		{"one signature character changed", tamperSignature(t, good), false},
		{"signature cut short", good[:len(good)-6], false},
		{"no signature", token, false},
		{"empty", "", false},
		{"bad percent escape", token + ".%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.client(t).get("/api/auth/get-session", "Cookie", sessionCookie+"="+tt.cookie).wantStatus(t, http.StatusOK)
			if string(resp.Body) != "null" {
				t.Fatalf("body %s", resp.Body)
			}
			if tt.cleared {
				wantCookiesCleared(t, resp)
			} else if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("cookies %q", got)
			}
		})
	}
	// A quoted value is unquoted, as upstream's parser does.
	resp := ts.client(t).get("/api/auth/get-session", "Cookie", sessionCookie+`="`+good+`"`)
	if !strings.Contains(string(resp.Body), token) {
		t.Fatalf("quoted cookie: %s", resp.Body)
	}
	// The first of two same-named cookies counts.
	resp = ts.client(t).get("/api/auth/get-session", "Cookie", sessionCookie+"="+good+"; "+sessionCookie+"=x")
	if !strings.Contains(string(resp.Body), token) {
		t.Fatalf("first cookie ignored: %s", resp.Body)
	}
}

// tamperSignature changes one character of a signed cookie's signature, keeping its shape. It
// changes the signature's first character, whose six bits are all signature: the last one before
// the padding carries two spare bits, and changing only those (1 time in 16) left the signature a
// loose base64 decoder reads unchanged, which made the tests that use this flaky.
func tamperSignature(t testing.TB, cookie string) string {
	t.Helper()
	d := decodeCookieValue(t, cookie)
	i := strings.LastIndexByte(d, '.') + 1
	if i == 0 || i >= len(d) {
		t.Fatalf("not a signed cookie: %q", d)
	}
	c := byte('A')
	if d[i] == c {
		c = 'B'
	}
	return encodeURIComponent(d[:i] + string(c) + d[i+1:])
}

// TestGetSessionExpiresCacheCookieWhenCacheIsOff ensures a stale session_data cookie (and its
// chunks) is expired when the cookie cache is off, as upstream does.
func TestGetSessionExpiresCacheCookieWhenCacheIsOff(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.client(t).get("/api/auth/get-session", "Cookie", sessionDataCookie+".0=a; "+sessionDataCookie+".1=b")
	got := resp.Header.Values("Set-Cookie")
	want := []string{
		"better-auth.session_data.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.session_data.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || string(resp.Body) != "null" {
		t.Fatalf("Set-Cookie %q, body %s", got, resp.Body)
	}
}

// TestPostGetSessionNeedsDeferredRefresh ensures POST /get-session answers upstream's 405 (it
// exists only with deferSessionRefresh), still with no-store.
func TestPostGetSessionNeedsDeferredRefresh(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.client(t).post("/api/auth/get-session", map[string]any{})
	resp.wantError(t, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED")
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("headers %v", resp.Header)
	}
}

// TestSignOut ensures sign-out deletes the session and expires upstream's three cookies, with or
// without a session, and that the old cookie is dead afterwards.
func TestSignOut(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "out@example.com", "Out")
	cookie := c.cookies[sessionCookie]
	resp := c.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "sign-out", resp)
	wantCookiesCleared(t, resp)
	ts.wantRows(t, "session", 0)
	resp = ts.client(t).get("/api/auth/get-session", "Cookie", sessionCookie+"="+cookie)
	if string(resp.Body) != "null" {
		t.Fatalf("signed-out cookie still works: %s", resp.Body)
	}
	// No session, no body at all: still 200 and the cookies expired.
	resp = ts.client(t).do(http.MethodPost, "/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	wantCookiesCleared(t, resp)
	ts.client(t).post("/api/auth/sign-out", map[string]any{"callbackURL": "https://evil.com"}).wantError(t, 403, "INVALID_CALLBACK_URL")
}

// TestListSessions ensures list-sessions returns the caller's live sessions only (tokens
// included), and refuses a session older than freshAge even after a refresh.
func TestListSessions(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "list@example.com", "List")
	other := ts.client(t)
	other.signIn("list@example.com", "password123").wantStatus(t, http.StatusOK)
	expired := ts.client(t)
	expired.signIn("list@example.com", "password123").wantStatus(t, http.StatusOK)
	stranger := ts.client(t)
	stranger.signUp("stranger@example.com", "password123", "Stranger")
	ts.exec(t, `UPDATE session SET "expiresAt" = now() - interval '1 second' WHERE token = $1`, expired.cookieToken())

	resp := c.get("/api/auth/list-sessions").wantStatus(t, http.StatusOK)
	wantJSDates(t, resp.Body)
	var list []session
	resp.decode(t, &list)
	got := map[string]bool{}
	for _, s := range list {
		got[s.Token] = true
	}
	if len(list) != 2 || !got[c.cookieToken()] || !got[other.cookieToken()] {
		t.Fatalf("sessions %s", resp.Body)
	}
	wantGolden(t, ts.server, "list-sessions-one", stranger.get("/api/auth/list-sessions").wantStatus(t, http.StatusOK))

	ts.client(t).get("/api/auth/list-sessions").wantError(t, 401, "UNAUTHORIZED")

	// Freshness counts from createdAt: 25 hours old, refreshed by get-session, still not fresh.
	ts.ageSession(t, c.cookieToken(), 25*time.Hour)
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	c.get("/api/auth/list-sessions").wantError(t, 403, "SESSION_NOT_FRESH")
}

// TestRevokeSession ensures revoke-session deletes the caller's named session, ignores a token
// that is someone else's or unknown, and clears the cookies when it is the current one.
func TestRevokeSession(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "revoke@example.com", "Revoke")
	other := ts.client(t)
	other.signIn("revoke@example.com", "password123").wantStatus(t, http.StatusOK)
	stranger := ts.client(t)
	stranger.signUp("stranger@example.com", "password123", "Stranger")

	resp := c.post("/api/auth/revoke-session", map[string]any{"token": other.cookieToken()}).wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "revoke-session-other", resp)
	if other.signedIn() {
		t.Fatal("revoked session still works")
	}
	c.post("/api/auth/revoke-session", map[string]any{"token": stranger.cookieToken()}).wantStatus(t, http.StatusOK)
	c.post("/api/auth/revoke-session", map[string]any{"token": "unknown"}).wantStatus(t, http.StatusOK)
	if !stranger.signedIn() {
		t.Fatal("revoke-session ended another user's session")
	}
	c.post("/api/auth/revoke-session", map[string]any{}).wantError(t, 400, "VALIDATION_ERROR")
	ts.client(t).post("/api/auth/revoke-session", map[string]any{"token": "x"}).wantError(t, 401, "UNAUTHORIZED")

	resp = c.post("/api/auth/revoke-session", map[string]any{"token": c.cookieToken()}).wantStatus(t, http.StatusOK)
	wantCookiesCleared(t, resp)
	ts.wantRows(t, "session", 1)
}

// TestRevokeSessions ensures revoke-sessions ends every session of the caller and only theirs,
// and clears the cookies.
func TestRevokeSessions(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "all@example.com", "All")
	ts.client(t).signIn("all@example.com", "password123").wantStatus(t, http.StatusOK)
	ts.client(t).signUp("stranger@example.com", "password123", "Stranger")
	resp := c.post("/api/auth/revoke-sessions", nil).wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "revoke-sessions", resp)
	ts.wantRows(t, "session", 1)
	ts.client(t).post("/api/auth/revoke-sessions", nil).wantError(t, 401, "UNAUTHORIZED")
}

// TestRevokeOtherSessions ensures the caller keeps the current session and its cookies while every
// other one of theirs ends.
func TestRevokeOtherSessions(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "others@example.com", "Others")
	other := ts.client(t)
	other.signIn("others@example.com", "password123").wantStatus(t, http.StatusOK)
	ts.client(t).signUp("stranger@example.com", "password123", "Stranger")
	resp := c.post("/api/auth/revoke-other-sessions", nil).wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "revoke-other-sessions", resp)
	if other.signedIn() {
		t.Fatal("other session survived")
	}
	if !c.signedIn() {
		t.Fatal("current session ended")
	}
	ts.wantRows(t, "session", 2)
}

// TestUpdateUser ensures name and image change (image can be cleared with null), the session
// cookie is written again, and email or nothing at all is refused as upstream does.
func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "update@example.com", "Before")
	ts.exec(t, `UPDATE "user" SET "updatedAt" = "updatedAt" - interval '1 hour'`)
	var before authSession
	c.get("/api/auth/get-session").decode(t, &before)
	resp := c.post("/api/auth/update-user", map[string]any{"name": `<x> & "q" é`, "image": "https://img.example.com/a.png"})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "update-user", resp)
	if line := resp.setCookie(sessionCookie); !rememberedSessionLine.MatchString(line) {
		t.Fatalf("session cookie = %q", line)
	}
	var got authSession
	c.get("/api/auth/get-session").decode(t, &got)
	if got.User.Name != `<x> & "q" é` || got.User.Image == nil || *got.User.Image != "https://img.example.com/a.png" {
		t.Fatalf("user %+v", got.User)
	}
	if !got.User.UpdatedAt.Time().After(before.User.UpdatedAt.Time()) || got.User.CreatedAt != before.User.CreatedAt {
		t.Fatalf("updatedAt %v → %v, createdAt %v → %v", before.User.UpdatedAt.Time(), got.User.UpdatedAt.Time(), before.User.CreatedAt.Time(), got.User.CreatedAt.Time())
	}
	c.post("/api/auth/update-user", map[string]any{"image": nil}).wantStatus(t, http.StatusOK)
	c.get("/api/auth/get-session").decode(t, &got)
	if got.User.Image != nil || got.User.Name != `<x> & "q" é` {
		t.Fatalf("user %+v", got.User)
	}

	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"email", map[string]any{"email": "new@example.com"}, 400, "EMAIL_CAN_NOT_BE_UPDATED"},
		{"email with name", map[string]any{"email": "new@example.com", "name": "X"}, 400, "EMAIL_CAN_NOT_BE_UPDATED"},
		{"empty body", map[string]any{}, 400, ""},
		{"name not a string", map[string]any{"name": 5}, 400, "VALIDATION_ERROR"},
		{"name null", map[string]any{"name": nil}, 400, "VALIDATION_ERROR"},
		{"emailVerified, dropped as upstream drops it", map[string]any{"emailVerified": true}, 400, ""},
		{"array body", []any{}, 400, "VALIDATION_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.post("/api/auth/update-user", tt.body)
			if tt.code == "" {
				resp.wantStatus(t, tt.status)
				if string(resp.Body) != `{"message":"No fields to update"}` {
					t.Fatalf("body %s", resp.Body)
				}
				return
			}
			resp.wantError(t, tt.status, tt.code)
		})
	}
	// An empty email is no email, as upstream's truthiness check reads it.
	c.post("/api/auth/update-user", map[string]any{"email": "", "name": "Renamed"}).wantStatus(t, http.StatusOK)
	ts.client(t).post("/api/auth/update-user", map[string]any{"name": "x"}).wantError(t, 401, "UNAUTHORIZED")
}

// TestUpdateUserKeepsDontRemember ensures the rewritten cookie keeps the browser-session choice.
func TestUpdateUserKeepsDontRemember(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("keep@example.com", "password123", "Keep")
	c := ts.client(t)
	c.signInDontRemember("keep@example.com", "password123")
	resp := c.post("/api/auth/update-user", map[string]any{"name": "Kept"}).wantStatus(t, http.StatusOK)
	wantBrowserSessionCookies(t, resp)
}

// TestUpdateSession ensures update-session, having no client-writable fields in core, answers
// upstream's "No fields to update" to a signed-in caller and 401 otherwise.
func TestUpdateSession(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "us@example.com", "US")
	resp := c.post("/api/auth/update-session", map[string]any{}).wantStatus(t, 400)
	if string(resp.Body) != `{"message":"No fields to update"}` {
		t.Fatalf("body %s", resp.Body)
	}
	ts.client(t).post("/api/auth/update-session", map[string]any{}).wantError(t, 401, "UNAUTHORIZED")
}

// TestSecureCookiesOnHTTPS ensures an https base URL gives upstream's __Secure- names and the
// Secure attribute, and that the unprefixed name is then not read.
func TestSecureCookiesOnHTTPS(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.BaseURL, c.SecureCookies = "https://app.example.com", true })
	c := ts.client(t)
	c.header.Set("Origin", "https://app.example.com")
	resp := c.post("/api/auth/sign-up/email", map[string]any{"email": "secure@example.com", "password": "password123", "name": "S"}).wantStatus(t, http.StatusOK)
	line := resp.setCookie("__Secure-better-auth.session_token")
	if !regexp.MustCompile(`^__Secure-better-auth\.session_token=[A-Za-z0-9]{32}\.[A-Za-z0-9%]+; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax$`).MatchString(line) {
		t.Fatalf("cookie %q", line)
	}
	if !c.signedIn() {
		t.Fatal("__Secure- cookie not read")
	}
	value := c.cookies["__Secure-better-auth.session_token"]
	resp = ts.client(t).get("/api/auth/get-session", "Cookie", sessionCookie+"="+value)
	if string(resp.Body) != "null" {
		t.Fatalf("unprefixed cookie read on https: %s", resp.Body)
	}
	resp = c.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	want := []string{
		"__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
		"__Secure-better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
		"__Secure-better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
	}
	if got := resp.Header.Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sign-out cookies %q", got)
	}
}

// TestReplicasOnOneDatabaseServeTheSameUsers runs two replicas on one database: a session made on
// one is valid on the other, a user signed up through one signs in through the other, and signing
// out on one ends the session on both.
func TestReplicasOnOneDatabaseServeTheSameUsers(t *testing.T) {
	t.Parallel()
	pool, _ := newTestDB(t)
	a := startTestServer(t, pool, nil)
	b := startTestServer(t, pool, nil)
	ca := a.client(t)
	ca.signUp("replica@example.com", "password123", "Replica")
	cb := b.client(t)
	maps.Copy(cb.cookies, ca.cookies)
	user, _ := cb.get("/api/auth/get-session").object(t)["user"].(map[string]any)
	if user["email"] != "replica@example.com" {
		t.Fatalf("replica b does not know replica a's session: %v", user)
	}
	b.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "replica@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)

	cb.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
	if body := string(ca.get("/api/auth/get-session").Body); body != "null" {
		t.Fatalf("get-session on replica a after signing out on b: %s", body)
	}
}
