package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// sendOTP asks for a code of typ for email and returns the mailed code.
func sendOTP(t *testing.T, ts *testServer, smtpd *testSMTP, typ, email string) string {
	t.Helper()
	ts.client(t).post("/api/auth/email-otp/send-verification-otp", map[string]any{"email": email, "type": typ}).wantStatus(t, http.StatusOK)
	m := smtpd.nextMail(t, strings.ToLower(email))
	code := m.code(t)
	if len(code) != 6 {
		t.Fatalf("code = %q", code)
	}
	return code
}

func otpValue(t *testing.T, ts *testServer, identifier string) string {
	t.Helper()
	var v string
	ts.db.QueryRow(context.Background(), `SELECT value FROM verification WHERE identifier = $1`, identifier).Scan(&v)
	return v
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestEmailOTPSignIn ensures the sign-in code creates an unknown user (verified, with the given
// name) and signs in a known one, each code once.
func TestEmailOTPSignIn(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	code := sendOTP(t, ts, smtpd, "sign-in", "New@Example.com")
	if got := otpValue(t, ts, "sign-in-otp-new@example.com"); got != code+":0" {
		t.Fatalf("stored %q", got)
	}
	c := ts.client(t)
	resp := c.post("/api/auth/sign-in/email-otp", map[string]any{"email": "new@example.com", "otp": code, "name": "New"}).wantStatus(t, http.StatusOK)
	var body struct {
		Token string `json:"token"`
		User  user   `json:"user"`
	}
	resp.decode(t, &body)
	if body.Token == "" || body.User.Name != "New" || !body.User.EmailVerified || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("sign-in = %s", resp.Body)
	}
	if u := sessionUser(t, c); u.Email != "new@example.com" {
		t.Fatalf("session user = %+v", u)
	}
	ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "new@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")

	code = sendOTP(t, ts, smtpd, "sign-in", "new@example.com")
	ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "NEW@example.com", "otp": code}).wantStatus(t, http.StatusOK)
	if n := ts.rowCount(t, "user"); n != 1 {
		t.Fatalf("%d users", n)
	}
}

// TestEmailOTPWrongGuessesLockTheCode ensures three wrong codes are each answered INVALID_OTP
// and the right one is then refused with 403 TOO_MANY_ATTEMPTS, the code gone.
func TestEmailOTPWrongGuessesLockTheCode(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	ts.client(t).signUp("guess@example.com", "password123", "G")
	code := sendOTP(t, ts, smtpd, "forget-password", "guess@example.com")
	c := ts.client(t)
	for i := range 3 {
		c.post("/api/auth/email-otp/reset-password", map[string]any{"email": "guess@example.com", "otp": wrongCode(code), "password": "new-password-1"}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
		if got, want := otpValue(t, ts, "forget-password-otp-guess@example.com"), code+":"+string(rune('1'+i)); got != want {
			t.Fatalf("after %d wrong guesses: %q, want %q", i+1, got, want)
		}
	}
	c.post("/api/auth/email-otp/reset-password", map[string]any{"email": "guess@example.com", "otp": code, "password": "new-password-1"}).wantError(t, http.StatusForbidden, "TOO_MANY_ATTEMPTS")
	if ts.rowCount(t, "verification") != 0 {
		t.Fatal("locked code kept")
	}
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "guess@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
}

// TestEmailOTPParallelWrongGuessesAreAllCounted ensures guesses made at once are each counted:
// three parallel wrong codes use up all the attempts.
func TestEmailOTPParallelWrongGuessesAreAllCounted(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	code := sendOTP(t, ts, smtpd, "sign-in", "burst@example.com")
	statuses := parallel(3, func(int) int {
		return ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": wrongCode(code)}).Status
	})
	if statuses[http.StatusBadRequest] != 3 {
		t.Fatalf("statuses = %v", statuses)
	}
	got := otpValue(t, ts, "sign-in-otp-burst@example.com")
	recordFigures(t, "wrong codes", map[string]any{"thing": "email OTP, three at once", "attempts": 3, "counted": strings.TrimPrefix(got, code+":"), "statuses": statuses})
	if got != code+":3" {
		t.Fatalf("stored %q, want three attempts counted", got)
	}
	ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": code}).wantError(t, http.StatusForbidden, "TOO_MANY_ATTEMPTS")

	// Many more at once: whatever the interleaving, the code is dead afterwards.
	code = sendOTP(t, ts, smtpd, "sign-in", "burst@example.com")
	statuses = parallel(50, func(int) int {
		return ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": wrongCode(code)}).Status
	})
	if statuses[http.StatusForbidden] == 0 || statuses[http.StatusOK] != 0 {
		t.Fatalf("statuses = %v", statuses)
	}
	ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	recordFigures(t, "wrong codes", map[string]any{"thing": "email OTP, fifty at once", "attempts": 50, "counted": "until the lockout; the right code is dead after", "statuses": statuses})
	if n := ts.rowCount(t, "user"); n != 0 {
		t.Fatalf("%d users", n)
	}
}

// TestEmailOTPWorksOnce ensures fifty parallel sign-ins with the right code yield one session.
func TestEmailOTPWorksOnce(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	code := sendOTP(t, ts, smtpd, "sign-in", "race@example.com")
	statuses := parallel(50, func(int) int {
		return ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "race@example.com", "otp": code}).Status
	})
	recordRace(t, "email OTP sign-in", 50, statuses[http.StatusOK], statuses)
	// Right guesses are not attempts: the losers find the code spent, none is locked out.
	if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != 49 {
		t.Fatalf("statuses = %v, want one 200 and 49 400", statuses)
	}
	if n := ts.rowCount(t, "session"); n != 1 {
		t.Fatalf("%d sessions", n)
	}
}

// TestEmailOTPExpires ensures a code past its five minutes is refused with OTP_EXPIRED and removed.
func TestEmailOTPExpires(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	code := sendOTP(t, ts, smtpd, "sign-in", "late@example.com")
	expireVerifications(t, ts)
	c := ts.client(t)
	c.post("/api/auth/sign-in/email-otp", map[string]any{"email": "late@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "OTP_EXPIRED")
	c.post("/api/auth/sign-in/email-otp", map[string]any{"email": "late@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
}

// TestEmailOTPSendDoesNotRevealAccounts ensures unknown emails get the same answer and no code,
// except sign-in codes, which sign up.
func TestEmailOTPSendDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	ts.client(t).signUp("real@example.com", "password123", "R")
	c := ts.client(t)
	requests := []struct {
		path string
		body map[string]any
	}{
		{"/api/auth/email-otp/send-verification-otp", map[string]any{"type": "email-verification"}},
		{"/api/auth/email-otp/send-verification-otp", map[string]any{"type": "forget-password"}},
		{"/api/auth/email-otp/request-password-reset", map[string]any{}},
		{"/api/auth/forget-password/email-otp", map[string]any{}},
	}
	for _, r := range requests {
		var answers []string
		for _, email := range []string{"real@example.com", "ghost@example.com"} {
			r.body["email"] = email
			answers = append(answers, string(c.post(r.path, r.body).wantStatus(t, http.StatusOK).Body))
		}
		if answers[0] != `{"success":true}` || answers[1] != answers[0] {
			t.Fatalf("%s: answers %q", r.path, answers)
		}
		smtpd.nextMail(t, "real@example.com")
	}
	waitOutboxEmpty(t, ts)
	if smtpd.count("ghost@example.com") != 0 || ts.rowCount(t, "verification") != 2 {
		t.Fatalf("ghost got %d mails; %d codes stored", smtpd.count("ghost@example.com"), ts.rowCount(t, "verification"))
	}
	sendOTP(t, ts, smtpd, "sign-in", "ghost@example.com")

	off, offSMTP := newMailServer(t, func(c *config) { c.Email.PasswordlessSignUp = false })
	off.client(t).post("/api/auth/email-otp/send-verification-otp", map[string]any{"email": "ghost@example.com", "type": "sign-in"}).wantStatus(t, http.StatusOK)
	waitOutboxEmpty(t, off)
	if offSMTP.count("ghost@example.com") != 0 {
		t.Fatal("sign-in code mailed with sign-up off")
	}
}

// TestEmailOTPVerifyEmail ensures the email-verification code marks the address verified, once.
func TestEmailOTPVerifyEmail(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("check@example.com", "password123", "C")
	code := sendOTP(t, ts, smtpd, "email-verification", "check@example.com")

	// check-verification-otp leaves the code usable and does not count a right guess.
	check := map[string]any{"email": "check@example.com", "type": "email-verification", "otp": code}
	c.post("/api/auth/email-otp/check-verification-otp", check).wantStatus(t, http.StatusOK)
	c.post("/api/auth/email-otp/check-verification-otp", check).wantStatus(t, http.StatusOK)
	if got := otpValue(t, ts, "email-verification-otp-check@example.com"); got != code+":0" {
		t.Fatalf("stored %q", got)
	}

	resp := c.post("/api/auth/email-otp/verify-email", map[string]any{"email": "check@example.com", "otp": code}).wantStatus(t, http.StatusOK)
	var body struct {
		Status bool    `json:"status"`
		Token  *string `json:"token"`
		User   user    `json:"user"`
	}
	resp.decode(t, &body)
	if !body.Status || body.Token != nil || !body.User.EmailVerified {
		t.Fatalf("verify = %s", resp.Body)
	}
	if !sessionUser(t, c).EmailVerified {
		t.Fatal("session user not verified")
	}
	c.post("/api/auth/email-otp/verify-email", map[string]any{"email": "check@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
}

// TestEmailOTPResetPassword ensures the forget-password code sets a new password once, verifies
// the address, and REVOKE_SESSIONS_ON_PASSWORD_RESET applies.
func TestEmailOTPResetPassword(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.RevokeSessionsOnPasswordReset = true })
	c := ts.client(t)
	c.signUp("forgot@example.com", "password123", "F")
	c.post("/api/auth/email-otp/request-password-reset", map[string]any{"email": "forgot@example.com"}).wantStatus(t, http.StatusOK)
	code := smtpd.nextMail(t, "forgot@example.com").code(t)
	reset := map[string]any{"email": "forgot@example.com", "otp": code, "password": "short"}
	c.post("/api/auth/email-otp/reset-password", reset).wantError(t, http.StatusBadRequest, "PASSWORD_TOO_SHORT")
	reset["password"] = "brand-new-pass"
	c.post("/api/auth/email-otp/reset-password", reset).wantStatus(t, http.StatusOK)
	c.post("/api/auth/email-otp/reset-password", reset).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	if body := string(c.get("/api/auth/get-session").Body); body != "null" {
		t.Fatalf("session survived: %s", body)
	}
	other := ts.client(t)
	other.post("/api/auth/sign-in/email", map[string]any{"email": "forgot@example.com", "password": "brand-new-pass"}).wantStatus(t, http.StatusOK)
	if !sessionUser(t, other).EmailVerified {
		t.Fatal("reset by code did not verify the address")
	}
}

// TestEmailOTPRefusesBadInput ensures the OTP endpoints' validation answers.
func TestEmailOTPRefusesBadInput(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t)
	c := ts.client(t)
	send := "/api/auth/email-otp/send-verification-otp"
	c.post(send, map[string]any{"email": "a@example.com", "type": "bogus"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post(send, map[string]any{"email": "a@example.com"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post(send, map[string]any{"email": "bad", "type": "sign-in"}).wantError(t, http.StatusBadRequest, "INVALID_EMAIL")
	resp := c.post(send, map[string]any{"email": "a@example.com", "type": "change-email"}).wantStatus(t, http.StatusBadRequest)
	if string(resp.Body) != `{"message":"Invalid OTP type"}` {
		t.Fatalf("body = %s", resp.Body)
	}
	c.post("/api/auth/email-otp/verify-email", map[string]any{"email": "bad", "otp": "123456"}).wantError(t, http.StatusBadRequest, "INVALID_EMAIL")
	c.post("/api/auth/email-otp/check-verification-otp", map[string]any{"email": "a@example.com", "type": "sign-in"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	// An unknown key is dropped, as upstream drops it: the code is what is wrong.
	c.post("/api/auth/sign-in/email-otp", map[string]any{"email": "a@example.com", "otp": "123456", "extra": 1}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	c.post(send, map[string]any{"email": "a@example.com", "type": "sign-in"}, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate").wantError(t, http.StatusForbidden, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED")
}
