package main

import (
	"net/http"
	"strings"
	"testing"
)

func sessionUser(t *testing.T, c *testClient) user {
	t.Helper()
	var as authSession
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &as)
	return as.User
}

// TestChangeEmailConfirmedFromOldAddress ensures a verified user's change goes old address →
// new address → applied, keeps emailVerified, refreshes the session, and the links then stop
// working.
func TestChangeEmailConfirmedFromOldAddress(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("old@example.com", "password123", "O")
	markVerified(t, ts, "old@example.com")

	c.post("/api/auth/change-email", map[string]any{"newEmail": "New@Example.com", "callbackURL": "/settings"}).wantStatus(t, http.StatusOK)
	confirm := smtpd.nextMail(t, "old@example.com")
	if p := confirm.parse(t); !strings.Contains(p.Text, "new@example.com") {
		t.Fatalf("confirmation does not name the new address:\n%s", p.Text)
	}
	if loc := c.follow(confirm.link(t)).location(t); loc != "/settings" {
		t.Fatalf("Location = %q", loc)
	}
	if got := sessionUser(t, c).Email; got != "old@example.com" {
		t.Fatalf("email changed before the new address was verified: %s", got)
	}
	verify := smtpd.nextMail(t, "new@example.com").link(t)
	resp := c.follow(verify)
	if resp.location(t) != "/settings" || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("verification answered %v", resp.Header)
	}
	if u := sessionUser(t, c); u.Email != "new@example.com" || !u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
	// The token names the old address, so once the email moved it is dead.
	if loc := c.follow(verify).location(t); loc != "/settings?error=INVALID_TOKEN" {
		t.Fatalf("reused link: Location = %q", loc)
	}
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "new@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
}

// TestChangeEmailVerifiesNewAddressOnly ensures that without the confirmation step the link goes
// to the new address only and works without a session, answering the updated user.
func TestChangeEmailVerifiesNewAddressOnly(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.ChangeEmailConfirmation = false })
	c := ts.client(t)
	c.signUp("first@example.com", "password123", "F")
	c.post("/api/auth/change-email", map[string]any{"newEmail": "second@example.com"}).wantStatus(t, http.StatusOK)
	link := smtpd.nextMail(t, "second@example.com").link(t)
	var body struct {
		Status bool `json:"status"`
		User   user `json:"user"`
	}
	ts.client(t).follow(strings.TrimSuffix(link, "&callbackURL=%2F")).wantStatus(t, http.StatusOK).decode(t, &body)
	if !body.Status || body.User.Email != "second@example.com" || body.User.EmailVerified {
		t.Fatalf("body = %+v", body)
	}
	waitOutboxEmpty(t, ts)
	if smtpd.count("first@example.com") != 0 {
		t.Fatal("mail went to the old address")
	}
}

// TestChangeEmailLinkRefusesAnotherSignedInUser ensures the link cannot be applied from someone
// else's session.
func TestChangeEmailLinkRefusesAnotherSignedInUser(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.ChangeEmailConfirmation = false })
	c := ts.client(t)
	c.signUp("owner@example.com", "password123", "O")
	c.post("/api/auth/change-email", map[string]any{"newEmail": "moved@example.com"}).wantStatus(t, http.StatusOK)
	link := smtpd.nextMail(t, "moved@example.com").link(t)
	intruder := ts.client(t)
	intruder.signUp("intruder@example.com", "password123", "I")
	if loc := intruder.follow(link).location(t); loc != "/?error=INVALID_USER" {
		t.Fatalf("Location = %q", loc)
	}
	if got := sessionUser(t, c).Email; got != "owner@example.com" {
		t.Fatalf("email = %s", got)
	}
}

// TestChangeEmailToTakenAddressLooksTheSame ensures a taken address gets the same answer and no
// mail, so the endpoint does not reveal which addresses have accounts.
func TestChangeEmailToTakenAddressLooksTheSame(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.ChangeEmailConfirmation = false })
	ts.client(t).signUp("taken@example.com", "password123", "T")
	c := ts.client(t)
	c.signUp("mover@example.com", "password123", "M")
	taken := c.post("/api/auth/change-email", map[string]any{"newEmail": "taken@example.com"}).wantStatus(t, http.StatusOK)
	free := c.post("/api/auth/change-email", map[string]any{"newEmail": "free@example.com"}).wantStatus(t, http.StatusOK)
	if string(taken.Body) != string(free.Body) {
		t.Fatalf("answers differ: %s / %s", taken.Body, free.Body)
	}
	smtpd.nextMail(t, "free@example.com")
	waitOutboxEmpty(t, ts)
	if smtpd.count("taken@example.com") != 0 {
		t.Fatal("mail to the taken address")
	}
}

// TestChangeEmailWithoutVerification ensures CHANGE_EMAIL_WITHOUT_VERIFICATION moves an unverified
// user at once (with a verification link to the new address) but not a verified one.
func TestChangeEmailWithoutVerification(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.ChangeEmailWithoutVerification = true })
	c := ts.client(t)
	c.signUp("unv@example.com", "password123", "U")
	resp := c.post("/api/auth/change-email", map[string]any{"newEmail": "unv2@example.com"}).wantStatus(t, http.StatusOK)
	if resp.setCookie("better-auth.session_token") == "" {
		t.Fatal("session cookie not refreshed")
	}
	if got := sessionUser(t, c).Email; got != "unv2@example.com" {
		t.Fatalf("email = %s", got)
	}
	c.follow(smtpd.nextMail(t, "unv2@example.com").link(t)).location(t)
	if u := sessionUser(t, c); !u.EmailVerified {
		t.Fatalf("user = %+v", u)
	}
	// Now verified: the change needs the confirmation again.
	c.post("/api/auth/change-email", map[string]any{"newEmail": "unv3@example.com"}).wantStatus(t, http.StatusOK)
	smtpd.nextMail(t, "unv2@example.com")
	if got := sessionUser(t, c).Email; got != "unv2@example.com" {
		t.Fatalf("email = %s", got)
	}
}

// TestChangeEmailRefusals ensures the endpoint's errors: no session, bad or same address,
// disabled.
func TestChangeEmailRefusals(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t)
	c := ts.client(t)
	c.post("/api/auth/change-email", map[string]any{"newEmail": "x@example.com"}).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	c.signUp("same@example.com", "password123", "S")
	c.post("/api/auth/change-email", map[string]any{"newEmail": "bad"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	resp := c.post("/api/auth/change-email", map[string]any{"newEmail": "SAME@example.com"}).wantStatus(t, http.StatusBadRequest)
	if string(resp.Body) != `{"message":"Email is the same"}` {
		t.Fatalf("body = %s", resp.Body)
	}
	c.post("/api/auth/change-email", map[string]any{"newEmail": "x@example.com", "callbackURL": "https://evil.com"}).wantError(t, http.StatusForbidden, "INVALID_CALLBACK_URL")

	off, _ := newMailServer(t, func(c *config) { c.Email.ChangeEmail = false })
	oc := off.client(t)
	oc.signUp("off@example.com", "password123", "O")
	oc.post("/api/auth/change-email", map[string]any{"newEmail": "x@example.com"}).wantError(t, http.StatusBadRequest, "CHANGE_EMAIL_DISABLED")
}
