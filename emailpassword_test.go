package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	sessionCookie      = "better-auth.session_token"
	dontRememberCookie = "better-auth.dont_remember"
	sessionDataCookie  = "better-auth.session_data"
	formType           = "application/x-www-form-urlencoded"
)

// A signed session cookie exactly as upstream writes it: a 32-character token, its base64
// HMAC URL-encoded, then upstream's attributes in upstream's order.
var (
	rememberedSessionLine = regexp.MustCompile(`^better-auth\.session_token=[A-Za-z0-9]{32}\.[A-Za-z0-9%]{44,60}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax$`)
	browserSessionLine    = regexp.MustCompile(`^better-auth\.session_token=[A-Za-z0-9]{32}\.[A-Za-z0-9%]{44,60}; Path=/; HttpOnly; SameSite=Lax$`)
	dontRememberLine      = regexp.MustCompile(`^better-auth\.dont_remember=true\.[A-Za-z0-9%]{44,60}; Path=/; HttpOnly; SameSite=Lax$`)
)

// formPost sends body as a form post, as an HTML <form> without JavaScript does.
func (c *testClient) formPost(path, body string, header ...string) *testResponse {
	c.t.Helper()
	return c.do(http.MethodPost, path, body, append([]string{"Content-Type", formType}, header...)...)
}

// signIn signs c in and returns the response.
func (c *testClient) signIn(email, password string) *testResponse {
	c.t.Helper()
	return c.post("/api/auth/sign-in/email", map[string]any{"email": email, "password": password})
}

// cookieToken returns the session token c holds, checking its signature.
func (c *testClient) cookieToken() string {
	c.t.Helper()
	v, ok := c.ts.verifySigned(decodeCookieValue(c.t, c.cookies[sessionCookie]))
	if !ok {
		c.t.Fatalf("client holds no validly signed session cookie: %q", c.cookies[sessionCookie])
	}
	return v
}

func decodeCookieValue(t testing.TB, v string) string {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "x="+v)
	d, _ := rawCookie(r, "x")
	return d
}

// newSignedInServer starts a test server and signs a new user up on it with password123.
func newSignedInServer(t testing.TB, email, name string, opts ...func(*config)) (*testServer, *testClient) {
	t.Helper()
	ts := newTestServer(t, opts...)
	c := ts.client(t)
	c.signUp(email, "password123", name)
	return ts, c
}

// signedIn reports whether get-session answers a session for c.
func (c *testClient) signedIn() bool {
	c.t.Helper()
	return string(c.get("/api/auth/get-session").wantStatus(c.t, http.StatusOK).Body) != "null"
}

// signInDontRemember signs c in with rememberMe:false.
func (c *testClient) signInDontRemember(email, password string) {
	c.t.Helper()
	c.post("/api/auth/sign-in/email", map[string]any{"email": email, "password": password, "rememberMe": false}).wantStatus(c.t, http.StatusOK)
}

// wantBrowserSessionCookies fails unless resp sets upstream's rememberMe:false pair: a session
// cookie without Max-Age and a signed dont_remember.
func wantBrowserSessionCookies(t testing.TB, resp *testResponse) {
	t.Helper()
	if line := resp.setCookie(sessionCookie); !browserSessionLine.MatchString(line) {
		t.Fatalf("session cookie = %q, want one without Max-Age", line)
	}
	if line := resp.setCookie(dontRememberCookie); !dontRememberLine.MatchString(line) {
		t.Fatalf("dont_remember cookie = %q", line)
	}
}

// exec runs SQL on the test server's database, as a test's way to set up what no endpoint can.
func (ts *testServer) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := ts.db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// wantRows fails unless table holds n rows.
func (ts *testServer) wantRows(t testing.TB, table string, n int) {
	t.Helper()
	if got := ts.rowCount(t, table); got != n {
		t.Fatalf("%d rows in %s, want %d", got, table, n)
	}
}

// sessionRow reads the session row for token.
func (ts *testServer) sessionRow(t testing.TB, token string) session {
	t.Helper()
	var sess session
	err := ts.db.QueryRow(context.Background(), `SELECT `+ts.sessionColumns+` FROM session s WHERE s.token = $1`, token).Scan(sess.scanTargets()...)
	if err != nil {
		t.Fatalf("session row for %q: %v", token, err)
	}
	return sess
}

// TestSignUpCreatesUserAccountAndSession ensures sign-up stores the user (email lowercased), a
// credential account with an upstream-format scrypt hash and a session, answers upstream's body
// and sets upstream's signed session cookie.
func TestSignUpCreatesUserAccountAndSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	resp := c.post("/api/auth/sign-up/email", map[string]any{"email": "Alice@Example.COM", "password": "password123", "name": "Alice"},
		"User-Agent", "probe/1.0")
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "sign-up", resp)
	if line := resp.setCookie(sessionCookie); !rememberedSessionLine.MatchString(line) {
		t.Fatalf("session cookie = %q", line)
	}
	var body struct {
		Token string
		User  user
	}
	resp.decode(t, &body)
	if got, want := c.cookieToken(), body.Token; got != want {
		t.Fatalf("cookie token = %q, body token %q", got, want)
	}
	if body.User.Email != "alice@example.com" {
		t.Fatalf("email = %q, want it lowercased", body.User.Email)
	}
	var hash string
	if err := ts.db.QueryRow(context.Background(), `SELECT password FROM account
		WHERE "userId" = $1 AND "providerId" = 'credential' AND "accountId" = $1`, body.User.ID).Scan(&hash); err != nil {
		t.Fatalf("credential account: %v", err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}:[0-9a-f]{128}$`).MatchString(hash) {
		t.Fatalf("password hash = %q, want upstream's salt:key hex", hash)
	}
	sess := ts.sessionRow(t, body.Token)
	if sess.UserID != body.User.ID || *sess.UserAgent != "probe/1.0" || *sess.IPAddress != "127.0.0.1" {
		t.Fatalf("session row = %+v", sess)
	}
	if got := sess.ExpiresAt.Time().Sub(sess.CreatedAt.Time()); got != defaultSessionExpiresIn {
		t.Fatalf("session lifetime = %v, want 7 days", got)
	}
	if len(sess.ID) != 32 {
		t.Fatalf("session id %q is not 32 characters", sess.ID)
	}
}

// TestSignUpAndSignInRefusals ensures each refused sign-up or sign-in gets upstream's status and
// code, sets no cookie and writes nothing. Sign-in answers the same 401 for an unknown email and a
// wrong password, checks the email's format and the password's maximum first, and has no minimum.
func TestSignUpAndSignInRefusals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("taken@example.com", "password123", "Taken")
	const up, in = "/api/auth/sign-up/email", "/api/auth/sign-in/email"
	tests := []struct {
		path, name string
		body       map[string]any
		status     int
		code       string
	}{
		{up, "email already taken, in another case", map[string]any{"email": "TAKEN@example.com", "password": "password123", "name": "X"}, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"},
		{up, "invalid email", map[string]any{"email": "not-an-email", "password": "password123", "name": "X"}, 400, "VALIDATION_ERROR"},
		{up, "email with a trailing dot", map[string]any{"email": "a@example.com.", "password": "password123", "name": "X"}, 400, "VALIDATION_ERROR"},
		{up, "password of 7 characters", map[string]any{"email": "a@example.com", "password": "1234567", "name": "X"}, 400, "PASSWORD_TOO_SHORT"},
		{up, "password of 129 characters", map[string]any{"email": "a@example.com", "password": strings.Repeat("p", 129), "name": "X"}, 400, "PASSWORD_TOO_LONG"},
		{up, "65 emoji are 130 UTF-16 units", map[string]any{"email": "a@example.com", "password": strings.Repeat("😀", 65), "name": "X"}, 400, "PASSWORD_TOO_LONG"},
		{up, "name missing", map[string]any{"email": "a@example.com", "password": "password123"}, 400, "VALIDATION_ERROR"},
		{up, "name not a string", map[string]any{"email": "a@example.com", "password": "password123", "name": 5}, 400, "VALIDATION_ERROR"},
		{up, "foreign callbackURL", map[string]any{"email": "a@example.com", "password": "password123", "name": "X", "callbackURL": "https://evil.com/x"}, 403, "INVALID_CALLBACK_URL"},
		{in, "wrong password", map[string]any{"email": "taken@example.com", "password": "password124"}, 401, "INVALID_EMAIL_OR_PASSWORD"},
		{in, "unknown email", map[string]any{"email": "nobody@example.com", "password": "password123"}, 401, "INVALID_EMAIL_OR_PASSWORD"},
		{in, "short password is only wrong", map[string]any{"email": "taken@example.com", "password": "x"}, 401, "INVALID_EMAIL_OR_PASSWORD"},
		{in, "invalid email", map[string]any{"email": "a", "password": "password123"}, 400, "INVALID_EMAIL"},
		{in, "password over 128", map[string]any{"email": "taken@example.com", "password": strings.Repeat("p", 129)}, 400, "PASSWORD_TOO_LONG"},
		{in, "password missing", map[string]any{"email": "taken@example.com"}, 400, "VALIDATION_ERROR"},
		{in, "rememberMe not a boolean", map[string]any{"email": "taken@example.com", "password": "password123", "rememberMe": "no"}, 400, "VALIDATION_ERROR"},
		{in, "protocol-relative callbackURL", map[string]any{"email": "taken@example.com", "password": "password123", "callbackURL": "//evil.com"}, 403, "INVALID_CALLBACK_URL"},
	}
	before := ts.tableCounts(t)
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/api/auth/")+"/"+tt.name, func(t *testing.T) {
			resp := ts.client(t).post(tt.path, tt.body)
			resp.wantError(t, tt.status, tt.code)
			if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("refused request set cookies %q", got)
			}
		})
	}
	if after := ts.tableCounts(t); !equalCounts(before, after) {
		t.Fatalf("rows changed: before %v, after %v", before, after)
	}
}

// TestSignUpPasswordLengthCountsUTF16 ensures the minimum counts JS string length: four emoji are
// eight UTF-16 units, enough, though only four characters.
func TestSignUpPasswordLengthCountsUTF16(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	c.signUp("emoji@example.com", "😀😀😀😀", "Emoji")
	ts.client(t).signIn("emoji@example.com", "😀😀😀😀").wantStatus(t, http.StatusOK)
}

// TestSignUpAndSignInAcceptFormPosts ensures both endpoints take an HTML form post (every value a
// string), as upstream's allowedMediaTypes do, and that a form's rememberMe is refused as a string,
// as upstream's schema does.
func TestSignUpAndSignInAcceptFormPosts(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	c.formPost("/api/auth/sign-up/email", "email=form%40example.com&password=password123&name=Form+User").wantStatus(t, http.StatusOK)
	var name string
	if err := ts.db.QueryRow(context.Background(), `SELECT name FROM "user" WHERE email = 'form@example.com'`).Scan(&name); err != nil || name != "Form User" {
		t.Fatalf("name = %q, %v", name, err)
	}
	c2 := ts.client(t)
	resp := c2.formPost("/api/auth/sign-in/email", "email=form%40example.com&password=password123&callbackURL=%2Fhome")
	resp.wantStatus(t, http.StatusOK)
	if got := resp.Header.Get("Location"); got != "/home" {
		t.Fatalf("Location = %q", got)
	}
	ts.client(t).formPost("/api/auth/sign-in/email", "email=form%40example.com&password=password123&rememberMe=false").
		wantError(t, 400, "VALIDATION_ERROR")
	ts.client(t).formPost("/api/auth/update-user", "name=x").wantError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
}

// TestSignInEmail ensures sign-in answers upstream's body: redirect false and no url without a
// callbackURL; redirect true, url and a Location header with one.
func TestSignInEmail(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("bob@example.com", "password123", "Bob")

	resp := ts.client(t).signIn("bob@example.com", "password123")
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "sign-in", resp)
	if resp.Header.Get("Location") != "" {
		t.Fatalf("Location %q without a callbackURL", resp.Header.Get("Location"))
	}

	c := ts.client(t)
	resp = c.post("/api/auth/sign-in/email", map[string]any{"email": "BOB@example.com", "password": "password123", "callbackURL": "/dashboard"})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "sign-in-callback", resp)
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)

	resp = ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "bob@example.com", "password": "password123", "callbackURL": ts.URL + "/x?y=1"})
	resp.wantStatus(t, http.StatusOK)
	if got := resp.object(t)["url"]; got != ts.URL+"/x?y=1" {
		t.Fatalf("url = %v", got)
	}
}

// TestSignInRememberMeFalse ensures rememberMe:false gives browser-session cookies, a signed
// dont_remember cookie, a one-day session, and no sliding refresh afterwards.
func TestSignInRememberMeFalse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("carol@example.com", "password123", "Carol")
	c := ts.client(t)
	resp := c.post("/api/auth/sign-in/email", map[string]any{"email": "carol@example.com", "password": "password123", "rememberMe": false})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "sign-in-dont-remember", resp)
	wantBrowserSessionCookies(t, resp)
	token := c.cookieToken()
	sess := ts.sessionRow(t, token)
	if got := sess.ExpiresAt.Time().Sub(sess.CreatedAt.Time()); got != 24*time.Hour {
		t.Fatalf("session lifetime = %v, want one day", got)
	}
	// A one-day session is always due for the sliding refresh (expiresAt - 7d + 1d <= now), so
	// only dont_remember stops it here.
	before := ts.sessionRow(t, token)
	resp = c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Fatalf("get-session wrote cookies %q for a dont_remember session", got)
	}
	if after := ts.sessionRow(t, token); after.ExpiresAt != before.ExpiresAt {
		t.Fatalf("expiry moved from %v to %v", before.ExpiresAt.Time(), after.ExpiresAt.Time())
	}
	// Signing in again, remembered this time, expires the dont_remember cookie.
	resp = c.signIn("carol@example.com", "password123").wantStatus(t, http.StatusOK)
	if line := resp.setCookie(dontRememberCookie); line != "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" {
		t.Fatalf("dont_remember line %q", line)
	}
	if line := resp.setCookie(sessionCookie); !rememberedSessionLine.MatchString(line) {
		t.Fatalf("session cookie %q", line)
	}
}

// TestSignInWithoutCredentialAccountIsRefused ensures a user with no password (say, OAuth only)
// gets the same 401 as a wrong password.
func TestSignInWithoutCredentialAccountIsRefused(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("erin@example.com", "password123", "Erin")
	ts.exec(t, `DELETE FROM account`)
	ts.client(t).signIn("erin@example.com", "password123").wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
}

// TestChangePassword ensures the current password is checked, the new one replaces it, and other
// sessions stay unless revokeOtherSessions is set.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "frank@example.com", "Frank")
	other := ts.client(t)
	other.signIn("frank@example.com", "password123").wantStatus(t, http.StatusOK)

	c.post("/api/auth/change-password", map[string]any{"currentPassword": "wrong-password", "newPassword": "newpassword1"}).
		wantError(t, 400, "INVALID_PASSWORD")
	c.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "short"}).
		wantError(t, 400, "PASSWORD_TOO_SHORT")
	c.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": strings.Repeat("p", 129)}).
		wantError(t, 400, "PASSWORD_TOO_LONG")
	c.post("/api/auth/change-password", map[string]any{"currentPassword": strings.Repeat("p", 129), "newPassword": "newpassword1"}).
		wantError(t, 400, "PASSWORD_TOO_LONG")
	ts.client(t).post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "newpassword1"}).
		wantError(t, 401, "UNAUTHORIZED")

	resp := c.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "newpassword1"})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "change-password", resp)
	if !other.signedIn() {
		t.Fatal("the other session ended without revokeOtherSessions")
	}
	ts.client(t).signIn("frank@example.com", "password123").wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
	ts.client(t).signIn("frank@example.com", "newpassword1").wantStatus(t, http.StatusOK)

	oldToken := c.cookieToken()
	resp = c.post("/api/auth/change-password", map[string]any{"currentPassword": "newpassword1", "newPassword": "newpassword2", "revokeOtherSessions": true})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "change-password-revoke", resp)
	if line := resp.setCookie(sessionCookie); !rememberedSessionLine.MatchString(line) {
		t.Fatalf("new session cookie = %q", line)
	}
	if c.cookieToken() == oldToken || resp.object(t)["token"] != c.cookieToken() {
		t.Fatalf("no new session: cookie %q, body %s", c.cookieToken(), resp.Body)
	}
	if got := string(other.get("/api/auth/get-session").Body); got != "null" {
		t.Fatalf("other session survived revokeOtherSessions: %s", got)
	}
	ts.wantRows(t, "session", 1)
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
}

// TestChangePasswordKeepsDontRemember ensures the session made by revokeOtherSessions keeps the
// caller's remember-me choice, as upstream's setSessionCookie reads it from the request.
func TestChangePasswordKeepsDontRemember(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("gina@example.com", "password123", "Gina")
	c := ts.client(t)
	c.signInDontRemember("gina@example.com", "password123")
	resp := c.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "newpassword1", "revokeOtherSessions": true})
	resp.wantStatus(t, http.StatusOK)
	wantBrowserSessionCookies(t, resp)
}

// TestChangePasswordWithoutCredentialAccount ensures a user with no password gets upstream's
// CREDENTIAL_ACCOUNT_NOT_FOUND.
func TestChangePasswordWithoutCredentialAccount(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "hank@example.com", "Hank")
	ts.exec(t, `DELETE FROM account`)
	c.post("/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "newpassword1"}).
		wantError(t, 400, "CREDENTIAL_ACCOUNT_NOT_FOUND")
}

// TestVerifyPassword ensures verify-password answers {status:true} for the right password and
// INVALID_PASSWORD otherwise, including for a user without a password.
func TestVerifyPassword(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "ivy@example.com", "Ivy")
	resp := c.post("/api/auth/verify-password", map[string]any{"password": "password123"})
	resp.wantStatus(t, http.StatusOK)
	wantGolden(t, ts.server, "verify-password", resp)
	c.post("/api/auth/verify-password", map[string]any{"password": "password124"}).wantError(t, 400, "INVALID_PASSWORD")
	c.post("/api/auth/verify-password", map[string]any{}).wantError(t, 400, "VALIDATION_ERROR")
	ts.client(t).post("/api/auth/verify-password", map[string]any{"password": "password123"}).wantError(t, 401, "UNAUTHORIZED")
	ts.exec(t, `DELETE FROM account`)
	c.post("/api/auth/verify-password", map[string]any{"password": "password123"}).wantError(t, 400, "INVALID_PASSWORD")
}

type referenceHash struct {
	Made       string   `json:"made"`
	Password   string   `json:"password"`
	Equivalent []string `json:"equivalent"`
	Hash       string   `json:"hash"`
}

func loadReferenceHashes(t testing.TB) []referenceHash {
	t.Helper()
	raw, err := os.ReadFile("testdata/reference-passwords.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Hashes []referenceHash }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Hashes
}

// TestReferenceHashesVerify ensures hashes the Node server wrote verify here, NFKC-equivalent
// spellings included, and that near misses do not.
func TestReferenceHashesVerify(t *testing.T) {
	t.Parallel()
	s := newServer(config{Secret: testSecret}, nil)
	ctx := context.Background()
	for _, h := range loadReferenceHashes(t) {
		for _, pw := range append([]string{h.Password}, h.Equivalent...) {
			ok, err := s.checkPassword(ctx, h.Hash, pw)
			if err != nil || !ok {
				t.Errorf("reference hash of %q (%s) does not verify %q: %v", h.Password, h.Made, pw, err)
			}
		}
		if ok, _ := s.checkPassword(ctx, h.Hash, h.Password+" "); ok {
			t.Errorf("reference hash of %q verifies a different password", h.Password)
		}
	}
}

// TestSignInWithReferenceHash ensures a user migrated from the Node server, its hash copied as
// is, signs in here over HTTP.
func TestSignInWithReferenceHash(t *testing.T) {
	t.Parallel()
	db, _ := newTestDB(t)
	ts := startTestServer(t, db, upstreamHashing)
	u := ts.client(t).signUp("migrated@example.com", "placeholder-1", "Migrated")
	h := loadReferenceHashes(t)[2]
	ts.exec(t, `UPDATE account SET password = $2 WHERE "userId" = $1`, u["id"], h.Hash)
	ts.client(t).signIn("migrated@example.com", h.Password).wantStatus(t, http.StatusOK)
	ts.client(t).signIn("migrated@example.com", "placeholder-1").wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
}

// TestHashPasswordFormat ensures our hashes have upstream's shape and round-trip, and that a
// malformed stored hash never matches.
func TestHashPasswordFormat(t *testing.T) {
	t.Parallel()
	s := newServer(config{Secret: testSecret}, nil)
	ctx := context.Background()
	hash, err := s.hashPassword(ctx, "ﬁnance-2026")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}:[0-9a-f]{128}$`).MatchString(hash) {
		t.Fatalf("hash = %q", hash)
	}
	if ok, err := s.checkPassword(ctx, hash, "finance-2026"); err != nil || !ok {
		t.Fatalf("NFKC-equivalent password does not verify: %v", err)
	}
	for _, bad := range []string{"", ":", "nocolon", "abc:", ":abc", "00:zz", hash[:40]} {
		if ok, err := s.checkPassword(ctx, bad, "finance-2026"); ok || err != nil {
			t.Errorf("malformed hash %q: ok=%v err=%v", bad, ok, err)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
