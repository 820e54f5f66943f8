package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// magicLink asks for a link for email with body's extra fields and returns the mailed URL.
func magicLink(t *testing.T, ts *testServer, smtpd *testSMTP, email string, body map[string]any) string {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["email"] = email
	ts.client(t).post("/api/auth/sign-in/magic-link", body).wantStatus(t, http.StatusOK)
	return smtpd.nextMail(t, email).link(t) // sent to the address as typed, as upstream does
}

// TestMagicLinkSignsUpNewUser ensures a link for an unknown email creates a verified user with
// the given name and lands on newUserCallbackURL, signed in.
func TestMagicLinkSignsUpNewUser(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	link := magicLink(t, ts, smtpd, "fresh@example.com", map[string]any{"name": "Fresh", "callbackURL": "/dash", "newUserCallbackURL": "/welcome"})
	u, _ := url.Parse(link)
	if u.Path != "/api/auth/magic-link/verify" || u.RawQuery != "token="+u.Query().Get("token")+"&callbackURL=%2Fdash&newUserCallbackURL=%2Fwelcome" {
		t.Fatalf("link = %q", link)
	}
	var stored string
	ts.db.QueryRow(context.Background(), `SELECT value FROM verification WHERE identifier = $1`, "magic-link:"+u.Query().Get("token")).Scan(&stored)
	if stored != `{"type":"magic-link","email":"fresh@example.com","name":"Fresh"}` {
		t.Fatalf("stored = %q", stored)
	}
	c := ts.client(t)
	resp := c.follow(link)
	if resp.location(t) != ts.URL+"/welcome" || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("verify answered %v", resp.Header)
	}
	if u := sessionUser(t, c); u.Email != "fresh@example.com" || u.Name != "Fresh" || !u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
}

// TestMagicLinkSignsInExistingUser ensures a known user lands on callbackURL, or gets the session
// as JSON when the link has no callbackURL.
func TestMagicLinkSignsInExistingUser(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	ts.client(t).signUp("known@example.com", "password123", "K")
	markVerified(t, ts, "known@example.com")
	link := magicLink(t, ts, smtpd, "Known@Example.com", map[string]any{"callbackURL": "/dash", "newUserCallbackURL": "/welcome"})
	if loc := ts.client(t).follow(link).location(t); loc != ts.URL+"/dash" {
		t.Fatalf("Location = %q", loc)
	}

	link = magicLink(t, ts, smtpd, "known@example.com", nil)
	token := strings.TrimSuffix(strings.TrimPrefix(link, ts.URL+"/api/auth/magic-link/verify?token="), "&callbackURL=%2F")
	var body struct {
		Token   string  `json:"token"`
		User    user    `json:"user"`
		Session session `json:"session"`
	}
	resp := ts.client(t).get("/api/auth/magic-link/verify?token="+token).wantStatus(t, http.StatusOK)
	resp.decode(t, &body)
	if body.Token == "" || body.Token != body.Session.Token || body.User.Email != "known@example.com" || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("body = %s", resp.Body)
	}
	// A verified user keeps its password: nothing was revoked.
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "known@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
}

// TestMagicLinkWorksOnce ensures fifty parallel opens of one link sign in exactly once; the rest
// land on the error URL.
func TestMagicLinkWorksOnce(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	link := magicLink(t, ts, smtpd, "once@example.com", map[string]any{"callbackURL": "/dash", "errorCallbackURL": "/oops"})
	var ok, refused int
	locations := make([]string, 50)
	parallel(50, func(i int) int {
		resp := ts.client(t).follow(link)
		locations[i] = resp.Header.Get("Location")
		return resp.Status
	})
	for _, loc := range locations {
		switch loc {
		case ts.URL + "/dash":
			ok++
		case ts.URL + "/oops?error=INVALID_TOKEN":
			refused++
		}
	}
	recordRace(t, "magic link", 50, ok, map[int]int{http.StatusFound: ok + refused})
	if ok != 1 || refused != 49 {
		t.Fatalf("%d signed in, %d refused: %v", ok, refused, locations)
	}
	if n := ts.rowCount(t, "session"); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// TestMagicLinkRefusesBadLinks ensures wrong, expired and reused tokens redirect with
// error=INVALID_TOKEN to errorCallbackURL (default callbackURL), and that callbacks must be
// trusted.
func TestMagicLinkRefusesBadLinks(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	if loc := c.get("/api/auth/magic-link/verify?token=nope&callbackURL=%2Fdash").location(t); loc != ts.URL+"/dash?error=INVALID_TOKEN" {
		t.Fatalf("wrong token: Location = %q", loc)
	}
	if loc := c.get("/api/auth/magic-link/verify?token=nope&errorCallbackURL=%2Ferr%3Fx%3D1").location(t); loc != ts.URL+"/err?x=1&error=INVALID_TOKEN" {
		t.Fatalf("errorCallbackURL: Location = %q", loc)
	}
	link := magicLink(t, ts, smtpd, "late@example.com", nil)
	expireVerifications(t, ts)
	if loc := c.follow(link).location(t); loc != ts.URL+"/?error=INVALID_TOKEN" {
		t.Fatalf("expired: Location = %q", loc)
	}
	if n := userCount(t, ts, "late@example.com"); n != 0 {
		t.Fatal("expired link created a user")
	}
	for _, q := range []string{"callbackURL=https%3A%2F%2Fevil.com%2Fx", "errorCallbackURL=https%3A%2F%2Fevil.com", "newUserCallbackURL=%2F%2Fevil.com"} {
		c.get("/api/auth/magic-link/verify?token=x&"+q).wantError(t, http.StatusForbidden, "INVALID_CALLBACK_URL")
	}
	c.get("/api/auth/magic-link/verify").wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post("/api/auth/sign-in/magic-link", map[string]any{"email": "x@example.com", "callbackURL": "https://evil.com"}).wantError(t, http.StatusForbidden, "INVALID_CALLBACK_URL")
	c.post("/api/auth/sign-in/magic-link", map[string]any{"email": "not-an-email"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post("/api/auth/sign-in/magic-link", map[string]any{"email": "x@example.com"}, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate").wantError(t, http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
}

// TestMagicLinkSignUpDisabled ensures PASSWORDLESS_SIGN_UP=false keeps unknown emails out.
func TestMagicLinkSignUpDisabled(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.PasswordlessSignUp = false })
	link := magicLink(t, ts, smtpd, "stranger@example.com", map[string]any{"callbackURL": "/dash"})
	if loc := ts.client(t).follow(link).location(t); loc != ts.URL+"/dash?error=new_user_signup_disabled" {
		t.Fatalf("Location = %q", loc)
	}
	if userCount(t, ts, "stranger@example.com") != 0 {
		t.Fatal("user created")
	}
}

// TestMagicLinkRevokesUnprovenAccess ensures that proving an address takes over an unverified
// account someone else may have created with it: its password and sessions are gone.
func TestMagicLinkRevokesUnprovenAccess(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	squatter := ts.client(t)
	squatter.signUp("owner@example.com", "squatter-pass", "Squatter")
	link := magicLink(t, ts, smtpd, "owner@example.com", map[string]any{"callbackURL": "/dash"})
	owner := ts.client(t)
	owner.follow(link).location(t)
	if u := sessionUser(t, owner); !u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
	if body := string(squatter.get("/api/auth/get-session").Body); body != "null" {
		t.Fatalf("squatter still signed in: %s", body)
	}
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": "squatter-pass"}).wantError(t, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
}
