package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Two-factor tests: enrolment, each second factor at sign-in, the limits, trusted devices, and an
// enrolment made by the reference server. TOTP codes are computed here with RFC 6238 written out,
// not with the server's library, and the server's clock is pinned so that steps are exact.

// rfc6238 is RFC 6238's TOTP with HMAC-SHA1 and six digits: HMAC over the big-endian step,
// RFC 4226 §5.3 dynamic truncation, the low six decimal digits.
func rfc6238(key []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// stepStart is a time at the start of a TOTP step, plus a few seconds, so that moving the clock
// by whole steps keeps it inside one.
var stepStart = time.Date(2026, 3, 2, 9, 0, 5, 0, time.UTC)

func stepOf(t time.Time) int64 { return t.Unix() / 30 }

// keyFromURI returns the HMAC key an otpauth URI carries: its base32 secret, decoded.
func keyFromURI(t testing.TB, uri string) []byte {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("parse %q: %v", uri, err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatalf("secret of %q: %v", uri, err)
	}
	return key
}

// twoFactorUser is a user enrolled in TOTP through the API.
type twoFactorUser struct {
	email, password string
	key             []byte
	backupCodes     []string
}

// code is the user's TOTP code for the step the server's clock is in, plus offset steps.
func (u twoFactorUser) code(ts *testServer, offset int64) string {
	return rfc6238(u.key, stepOf(ts.clock.now())+offset)
}

// enrolTOTP signs up email on c, enables TOTP and confirms it with the current code, then moves
// the clock one step on, so the next code is a fresh one. c keeps its (rotated) session.
func enrolTOTP(t testing.TB, ts *testServer, c *testClient, email string) twoFactorUser {
	t.Helper()
	u := twoFactorUser{email: email, password: "password123"}
	c.signUp(email, u.password, "Two Factor")
	var enabled struct {
		TOTPURI     string   `json:"totpURI"`
		BackupCodes []string `json:"backupCodes"`
	}
	c.post("/api/auth/two-factor/enable", map[string]any{"password": u.password}).wantStatus(t, 200).decode(t, &enabled)
	u.key, u.backupCodes = keyFromURI(t, enabled.TOTPURI), enabled.BackupCodes
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantStatus(t, 200)
	ts.clock.advance(30 * time.Second)
	return u
}

// signInChallenged signs in with the password and expects the two-factor challenge.
func (c *testClient) signInChallenged(u twoFactorUser, extra map[string]any) *testResponse {
	c.t.Helper()
	body := map[string]any{"email": u.email, "password": u.password}
	for k, v := range extra {
		body[k] = v
	}
	resp := c.post("/api/auth/sign-in/email", body).wantStatus(c.t, 200)
	if got := resp.object(c.t); got["twoFactorRedirect"] != true {
		c.t.Fatalf("sign-in = %s, want a two-factor challenge", resp.Body)
	}
	return resp
}

// cookieShapes lists the Set-Cookie lines of r in order with their values elided: "name=…" for a
// value, "name=" for an expiry. The reference server's lines are compared in this form.
func cookieShapes(r *testResponse) []string {
	var out []string
	for _, line := range r.Header.Values("Set-Cookie") {
		name, rest, _ := strings.Cut(line, "=")
		value, attrs, _ := strings.Cut(rest, ";")
		if value != "" {
			value = "…"
		}
		out = append(out, name+"="+value+";"+attrs)
	}
	return out
}

func wantCookieShapes(t testing.TB, r *testResponse, want ...string) {
	t.Helper()
	got := cookieShapes(r)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Set-Cookie:\n%s\nwant (as the reference server sends):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// signedCookieValue returns the verified raw value of the client's cookie name.
func (c *testClient) signedCookieValue(name string) string {
	c.t.Helper()
	raw, err := url.PathUnescape(c.cookies[name])
	if err != nil {
		c.t.Fatalf("cookie %s: %v", name, err)
	}
	v, ok := c.ts.verifySigned(raw)
	if !ok {
		c.t.Fatalf("cookie %s = %q is not signed by the server", name, c.cookies[name])
	}
	return v
}

func (ts *testServer) twoFactorCounters(t testing.TB, email string) (failures int, locked bool) {
	t.Helper()
	var until *time.Time
	err := ts.db.QueryRow(context.Background(), `SELECT COALESCE(tf."failedVerificationCount", 0), tf."lockedUntil"
		FROM "twoFactor" tf JOIN "user" u ON u.id = tf."userId" WHERE u.email = $1`, email).Scan(&failures, &until)
	if err != nil {
		t.Fatal(err)
	}
	return failures, until != nil && until.After(ts.clock.now())
}

// TestTOTPMatchesRFC6238Vectors ensures both the test's TOTP and the server's agree with the
// SHA-1 test vectors of RFC 6238 Appendix B (their low six digits).
func TestTOTPMatchesRFC6238Vectors(t *testing.T) {
	t.Parallel()
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"}} {
		step := v.unix / 30
		if got := rfc6238(key, step); got != v.want {
			t.Errorf("rfc6238 at %d = %s, want %s", v.unix, got, v.want)
		}
		if got := totpCode(key, step); got != v.want {
			t.Errorf("server code at %d = %s, want %s", v.unix, got, v.want)
		}
	}
}

// TestTwoFactorEnrolment ensures enable returns upstream's URI and backup codes, stores them
// encrypted as upstream does, keeps the secret unconfirmed until its first code, and refuses to
// replace a confirmed secret.
func TestTwoFactorEnrolment(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.TwoFactor.Issuer = "Test Issuer" })
	ts.clock.set(stepStart)
	c := ts.client(t)
	c.signUp("alice@example.com", "password123", "Alice")

	c.post("/api/auth/two-factor/enable", map[string]any{"password": "wrong-password"}).wantError(t, 400, "INVALID_PASSWORD")
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": "sms"}).wantError(t, 400, "VALIDATION_ERROR")
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123", "method": nil}).wantError(t, 400, "VALIDATION_ERROR")

	var first struct {
		Method      string   `json:"method"`
		TOTPURI     string   `json:"totpURI"`
		BackupCodes []string `json:"backupCodes"`
	}
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123"}).wantStatus(t, 200).decode(t, &first)
	if first.Method != "totp" {
		t.Fatalf("method = %q", first.Method)
	}
	uriPattern := regexp.MustCompile(`^otpauth://totp/Test%20Issuer:alice%40example\.com\?secret=[A-Z2-7]{52}&issuer=Test\+Issuer&digits=6&period=30$`)
	if !uriPattern.MatchString(first.TOTPURI) {
		t.Fatalf("totpURI = %q", first.TOTPURI)
	}
	secret := string(keyFromURI(t, first.TOTPURI))
	if !regexp.MustCompile(`^[a-zA-Z0-9_-]{32}$`).MatchString(secret) {
		t.Fatalf("secret = %q, want 32 characters of upstream's default alphabet", secret)
	}
	if len(first.BackupCodes) != 10 {
		t.Fatalf("%d backup codes, want 10", len(first.BackupCodes))
	}
	for _, code := range first.BackupCodes {
		if !regexp.MustCompile(`^[a-zA-Z0-9]{5}-[a-zA-Z0-9]{5}$`).MatchString(code) {
			t.Fatalf("backup code %q, want XXXXX-XXXXX", code)
		}
	}

	// Stored as upstream stores them: the secret string and JSON.stringify(codes), encrypted.
	var sealedSecret, sealedCodes string
	var verified *bool
	if err := ts.db.QueryRow(context.Background(), `SELECT secret, "backupCodes", verified FROM "twoFactor"`).Scan(&sealedSecret, &sealedCodes, &verified); err != nil {
		t.Fatal(err)
	}
	if got, err := ts.symmetricDecrypt(sealedSecret); err != nil || got != secret {
		t.Fatalf("stored secret decrypts to %q, %v; want %q", got, err, secret)
	}
	wantCodes, _ := json.Marshal(first.BackupCodes)
	if got, err := ts.symmetricDecrypt(sealedCodes); err != nil || got != string(wantCodes) {
		t.Fatalf("stored backup codes decrypt to %q, %v; want %s", got, err, wantCodes)
	}
	if verified == nil || *verified {
		t.Fatalf("verified = %v before the first code, want false", verified)
	}

	// Enrolling again before confirming replaces the secret, still unconfirmed; a body issuer
	// names this URI only.
	var second struct {
		TOTPURI string `json:"totpURI"`
	}
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123", "issuer": "Mine"}).wantStatus(t, 200).decode(t, &second)
	if !strings.HasPrefix(second.TOTPURI, "otpauth://totp/Mine:alice%40example.com?") || !strings.Contains(second.TOTPURI, "&issuer=Mine&") {
		t.Fatalf("totpURI with body issuer = %q", second.TOTPURI)
	}
	key := keyFromURI(t, second.TOTPURI)
	var uri struct {
		TOTPURI string `json:"totpURI"`
	}
	c.post("/api/auth/two-factor/get-totp-uri", map[string]any{"password": "wrong-password"}).wantError(t, 400, "INVALID_PASSWORD")
	c.post("/api/auth/two-factor/get-totp-uri", map[string]any{"password": "password123"}).wantStatus(t, 200).decode(t, &uri)
	if got := string(keyFromURI(t, uri.TOTPURI)); got != string(key) || !strings.Contains(uri.TOTPURI, "Test%20Issuer:") {
		t.Fatalf("get-totp-uri = %q, want the second secret under the configured issuer", uri.TOTPURI)
	}
	step := stepOf(stepStart)
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": rfc6238([]byte(secret), step)}).wantError(t, 401, "INVALID_CODE")

	// The first code confirms: the session rotates, but the reply carries the old token and user,
	// as upstream's does.
	oldToken := c.get("/api/auth/get-session").object(t)["session"].(map[string]any)["token"]
	resp := c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": rfc6238(key, step)}).wantStatus(t, 200)
	body := resp.object(t)
	if body["token"] != oldToken || body["user"].(map[string]any)["twoFactorEnabled"] != false {
		t.Fatalf("first verify-totp = %s, want the old token and user", resp.Body)
	}
	wantCookieShapes(t, resp, "better-auth.session_token=…; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax")
	now := c.get("/api/auth/get-session").object(t)
	if now["session"].(map[string]any)["token"] == oldToken || now["user"].(map[string]any)["twoFactorEnabled"] != true {
		t.Fatalf("session after first code = %v, want a new session of a two-factor user", now)
	}
	if ts.rowCount(t, "session") != 1 {
		t.Fatalf("%d sessions, want the old one replaced", ts.rowCount(t, "session"))
	}

	// A confirmed secret stays: enable refuses and changes nothing.
	ts.clock.advance(30 * time.Second)
	c.post("/api/auth/two-factor/enable", map[string]any{"password": "password123"}).wantError(t, 400, "TOTP_ALREADY_ENABLED")
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": rfc6238(key, step+1)}).wantStatus(t, 200)
}

// TestTOTPAcceptsOneStepEitherSide ensures codes of the current step and the steps either side
// are accepted, and codes two steps away are not.
func TestTOTPAcceptsOneStepEitherSide(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.clock.set(stepStart)
	c := ts.client(t)
	u := enrolTOTP(t, ts, c, "window@example.com")
	for _, tc := range []struct {
		name   string
		offset int64
		status int
	}{
		{"a code from two steps ago is refused", -2, 401},
		{"a code from two steps ahead is refused", 2, 401},
		{"the previous step's code is accepted", -1, 200},
		{"the current code is accepted", 0, 200},
		{"the next step's code is accepted", 1, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Far from any step used before, so that only the window decides.
			ts.clock.advance(10 * 30 * time.Second)
			resp := c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, tc.offset)})
			if tc.status == 200 {
				resp.wantStatus(t, 200)
			} else {
				resp.wantError(t, tc.status, "INVALID_CODE")
			}
		})
	}
}

// TestTOTPCodeIsRefusedWhenReplayed ensures a TOTP code works once (RFC 6238 §5.2), where
// upstream accepts it again inside its window (better-auth#10387): at sign-in, with a session,
// and for an earlier step once a later one was used.
func TestTOTPCodeIsRefusedWhenReplayed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.clock.set(stepStart)
	u := enrolTOTP(t, ts, ts.client(t), "replay@example.com")
	code := u.code(ts, 0)

	first := ts.client(t)
	first.signInChallenged(u, nil)
	first.post("/api/auth/two-factor/verify-totp", map[string]any{"code": code}).wantStatus(t, 200)

	second := ts.client(t)
	second.signInChallenged(u, nil)
	second.post("/api/auth/two-factor/verify-totp", map[string]any{"code": code}).wantError(t, 401, "INVALID_CODE")
	second.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, -1)}).wantError(t, 401, "INVALID_CODE")
	second.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 1)}).wantStatus(t, 200)

	// With a session too: the next step's code was just used, so no code of this window is left.
	second.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 1)}).wantError(t, 401, "INVALID_CODE")
	ts.clock.advance(2 * 30 * time.Second)
	second.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantStatus(t, 200)
}

// TestSignInWithTOTP ensures a two-factor user gets a challenge and no session from the
// password, with the reference server's cookies, and a session once the code is right.
func TestSignInWithTOTP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.clock.set(stepStart)
	u := enrolTOTP(t, ts, ts.client(t), "totp@example.com")
	sessions := ts.rowCount(t, "session")

	c := ts.client(t)
	resp := c.signInChallenged(u, map[string]any{"rememberMe": false, "callbackURL": "/dashboard"})
	if got := string(resp.Body); got != `{"twoFactorRedirect":true,"twoFactorMethods":["totp","otp"]}` {
		t.Fatalf("challenge = %s", got)
	}
	if got := resp.Header.Get("Location"); got != "/dashboard" {
		t.Fatalf("Location = %q, want the callback kept as upstream keeps it", got)
	}
	wantCookieShapes(t, resp,
		"better-auth.dont_remember=…; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.two_factor=…; Max-Age=600; Path=/; HttpOnly; SameSite=Lax")
	if v := c.signedCookieValue("better-auth.two_factor"); !regexp.MustCompile(`^2fa-[a-zA-Z0-9_-]{20}$`).MatchString(v) {
		t.Fatalf("two_factor = %q", v)
	}
	if got := ts.rowCount(t, "session"); got != sessions {
		t.Fatalf("%d sessions after the password, want %d: no session before the second factor", got, sessions)
	}
	if got := string(c.get("/api/auth/get-session").Body); got != "null" {
		t.Fatalf("get-session = %s, want null", got)
	}

	spent := c.cookies["better-auth.two_factor"]
	resp = c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantStatus(t, 200)
	wantCookieShapes(t, resp,
		"better-auth.session_token=…; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.dont_remember=…; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.two_factor=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
	body := resp.object(t)
	session := c.get("/api/auth/get-session").wantStatus(t, 200).object(t)
	if session["session"].(map[string]any)["token"] != body["token"] || session["user"].(map[string]any)["twoFactorEnabled"] != true {
		t.Fatalf("session = %v, want the one verify-totp returned", session)
	}

	// The challenge is spent with the sign-in.
	c.post("/api/auth/sign-out", nil).wantStatus(t, 200)
	c.cookies["better-auth.two_factor"] = spent
	ts.clock.advance(30 * time.Second)
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantError(t, 401, "INVALID_TWO_FACTOR_COOKIE")

	// Remembered by default: the session cookie gets its Max-Age.
	c.signInChallenged(u, nil)
	resp = c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantStatus(t, 200)
	wantCookieShapes(t, resp,
		"better-auth.session_token=…; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
		"better-auth.two_factor=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
}
