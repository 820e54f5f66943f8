package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// resetTokenFromMail requests a reset for email and returns the token the mailed link carries
// to the app's page, after following the link through GET /reset-password/:token.
func resetTokenFromMail(t *testing.T, ts *testServer, smtpd *testSMTP, email string) string {
	t.Helper()
	c := ts.client(t)
	c.post("/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "/reset?step=2"}).wantStatus(t, http.StatusOK)
	link := smtpd.nextMail(t, email).link(t)
	if !strings.Contains(link, "/api/auth/reset-password/") || !strings.HasSuffix(link, "?callbackURL=%2Freset%3Fstep%3D2") {
		t.Fatalf("link = %q", link)
	}
	loc, err := url.Parse(c.follow(link).location(t))
	if err != nil {
		t.Fatal(err)
	}
	if loc.String() != ts.URL+"/reset?step=2&token="+loc.Query().Get("token") || len(loc.Query().Get("token")) != 24 {
		t.Fatalf("Location = %q", loc)
	}
	return loc.Query().Get("token")
}

// TestPasswordResetFromMailLink ensures the whole reset: the link leads to the app with the
// token, the token sets the new password once, the old password stops working.
func TestPasswordResetFromMailLink(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("reset@example.com", "password123", "R")
	token := resetTokenFromMail(t, ts, smtpd, "reset@example.com")

	c.post("/api/auth/reset-password", map[string]any{"newPassword": "short", "token": token}).wantError(t, http.StatusBadRequest, "PASSWORD_TOO_SHORT")
	c.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass"}).wantError(t, http.StatusBadRequest, "INVALID_TOKEN")
	resp := c.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass", "token": token}).wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"status":true}` || resp.setCookie("better-auth.session_token") != "" {
		t.Fatalf("reset answered %s %v", resp.Body, resp.Header)
	}
	c.post("/api/auth/reset-password", map[string]any{"newPassword": "another-pass-1", "token": token}).wantError(t, http.StatusBadRequest, "INVALID_TOKEN")

	other := ts.client(t)
	other.post("/api/auth/sign-in/email", map[string]any{"email": "reset@example.com", "password": "password123"}).wantError(t, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
	other.post("/api/auth/sign-in/email", map[string]any{"email": "reset@example.com", "password": "brand-new-pass"}).wantStatus(t, http.StatusOK)
	// Sessions survive a reset unless REVOKE_SESSIONS_ON_PASSWORD_RESET is on.
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	if string(c.get("/api/auth/get-session").Body) == "null" {
		t.Fatal("reset revoked sessions")
	}
	// The link now leads to the error.
	if loc := c.get("/api/auth/reset-password/" + token + "?callbackURL=%2Freset").location(t); loc != ts.URL+"/reset?error=INVALID_TOKEN" {
		t.Fatalf("Location = %q", loc)
	}
}

// TestPasswordResetTokenInQuery ensures the token may come in the query, as upstream allows.
func TestPasswordResetTokenInQuery(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("query@example.com", "password123", "Q")
	token := resetTokenFromMail(t, ts, smtpd, "query@example.com")
	c.post("/api/auth/reset-password?token="+token, map[string]any{"newPassword": "brand-new-pass"}).wantStatus(t, http.StatusOK)
}

// TestResetTokenWorksOnce ensures fifty parallel resets with one token yield exactly one success.
func TestResetTokenWorksOnce(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	ts.client(t).signUp("race@example.com", "password123", "R")
	token := resetTokenFromMail(t, ts, smtpd, "race@example.com")
	statuses := parallel(50, func(i int) int {
		return ts.client(t).post("/api/auth/reset-password", map[string]any{"newPassword": "parallel-pass-" + string(rune('a'+i%26)), "token": token}).Status
	})
	recordRace(t, "password reset token", 50, statuses[http.StatusOK], statuses)
	if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != 49 {
		t.Fatalf("statuses = %v, want one 200 and 49 400", statuses)
	}
}

// parallel runs f n times at once and counts the statuses it returns.
func parallel(n int, f func(i int) int) map[int]int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[int]int{}
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status := f(i)
			mu.Lock()
			counts[status]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

// TestPasswordResetRefusesBadTokens ensures wrong and expired tokens are refused on both the
// link and the reset.
func TestPasswordResetRefusesBadTokens(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("bad@example.com", "password123", "B")
	token := resetTokenFromMail(t, ts, smtpd, "bad@example.com")

	if loc := c.get("/api/auth/reset-password/wrongtoken?callbackURL=%2Freset").location(t); loc != ts.URL+"/reset?error=INVALID_TOKEN" {
		t.Fatalf("Location = %q", loc)
	}
	c.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass", "token": "wrongtoken"}).wantError(t, http.StatusBadRequest, "INVALID_TOKEN")

	// An hour later the token has expired.
	expireVerifications(t, ts)
	if loc := c.get("/api/auth/reset-password/" + token + "?callbackURL=%2Freset").location(t); loc != ts.URL+"/reset?error=INVALID_TOKEN" {
		t.Fatalf("Location = %q", loc)
	}
	c.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass", "token": token}).wantError(t, http.StatusBadRequest, "INVALID_TOKEN")

	t.Run("callbackURL is required and checked", func(t *testing.T) {
		c.get("/api/auth/reset-password/"+token).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
		c.get("/api/auth/reset-password/"+token+"?callbackURL=https%3A%2F%2Fevil.com").wantError(t, http.StatusForbidden, "INVALID_CALLBACK_URL")
		if loc := c.get("/api/auth/reset-password/" + token + "?callbackURL=").location(t); loc != ts.URL+"/api/auth/error?error=INVALID_TOKEN" {
			t.Fatalf("Location = %q", loc)
		}
	})
}

// TestRequestPasswordResetDoesNotRevealAccounts ensures an unknown email gets the same answer and
// no mail, and nothing is stored for it.
func TestRequestPasswordResetDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("known@example.com", "password123", "K")
	known := c.post("/api/auth/request-password-reset", map[string]any{"email": "known@example.com"}).wantStatus(t, http.StatusOK)
	unknown := c.post("/api/auth/request-password-reset", map[string]any{"email": "unknown@example.com"}).wantStatus(t, http.StatusOK)
	if string(known.Body) != string(unknown.Body) || !strings.Contains(string(known.Body), "If this email exists") {
		t.Fatalf("answers: %s / %s", known.Body, unknown.Body)
	}
	smtpd.nextMail(t, "known@example.com")
	waitOutboxEmpty(t, ts)
	if smtpd.count("unknown@example.com") != 0 || ts.rowCount(t, "verification") != 1 {
		t.Fatal("the unknown email left a trace")
	}
	c.post("/api/auth/request-password-reset", map[string]any{"email": "known@example.com", "redirectTo": "https://evil.com/x"}).wantError(t, http.StatusForbidden, "INVALID_REDIRECT_URL")
	c.post("/api/auth/request-password-reset", map[string]any{"email": "nope"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
}

// TestPasswordResetRevokesSessionsWhenConfigured ensures REVOKE_SESSIONS_ON_PASSWORD_RESET signs
// every device out, and that a user without a password gets one.
func TestPasswordResetRevokesSessionsWhenConfigured(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.RevokeSessionsOnPasswordReset = true })
	c := ts.client(t)
	c.signUp("revoke@example.com", "password123", "R")
	// A social-only user has no credential account: the reset creates it.
	if _, err := ts.db.Exec(context.Background(), `DELETE FROM account`); err != nil {
		t.Fatal(err)
	}
	token := resetTokenFromMail(t, ts, smtpd, "revoke@example.com")
	c.post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass", "token": token}).wantStatus(t, http.StatusOK)
	if body := string(c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).Body); body != "null" {
		t.Fatalf("session survived: %s", body)
	}
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "revoke@example.com", "password": "brand-new-pass"}).wantStatus(t, http.StatusOK)
}
