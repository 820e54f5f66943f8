package main

import (
	"net/http"
	"testing"
)

// wantMessage fails unless the response is an error without a code, exactly {"message": message},
// as upstream's APIError.fromStatus answers.
func (r *testResponse) wantMessage(t testing.TB, status int, message string) {
	t.Helper()
	r.wantStatus(t, status)
	if got, want := string(r.Body), `{"message":"`+message+`"}`; got != want {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

// otpChangeEmailOn turns on both change-email-by-code endpoints, as EMAIL_OTP_CHANGE_EMAIL=true.
func otpChangeEmailOn(c *config) { c.Email.OTPChangeEmail = true }

const (
	requestEmailChange = "/api/auth/email-otp/request-email-change"
	changeEmailByOTP   = "/api/auth/email-otp/change-email"
)

// TestEmailOTPChangeEmailIsOffByDefault ensures that, as upstream ships emailOTP, both endpoints
// check the body, then the session, then refuse with 400 "Change email with OTP is disabled".
func TestEmailOTPChangeEmailIsOffByDefault(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t)
	c := ts.client(t)
	c.post(requestEmailChange, map[string]any{}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post(changeEmailByOTP, map[string]any{"newEmail": "new@example.com"}).wantError(t, http.StatusBadRequest, "VALIDATION_ERROR")
	c.post(requestEmailChange, map[string]any{"newEmail": "new@example.com"}).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	c.signUp("off@example.com", "password123", "Off")
	// An invalid address is not even looked at: the switch comes first, as upstream's.
	c.post(requestEmailChange, map[string]any{"newEmail": "not-an-email"}).wantMessage(t, http.StatusBadRequest, "Change email with OTP is disabled")
	c.post(changeEmailByOTP, map[string]any{"newEmail": "new@example.com", "otp": "123456"}).wantMessage(t, http.StatusBadRequest, "Change email with OTP is disabled")
	if n := ts.rowCount(t, "verification"); n != 0 {
		t.Fatalf("%d verification rows", n)
	}
}

// TestEmailOTPChangeEmailMovesTheAccountOnce ensures the code mailed to the new address moves the
// account there, verified, refreshes the session cookie, and works once.
func TestEmailOTPChangeEmailMovesTheAccountOnce(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, otpChangeEmailOn)
	c := ts.client(t)
	c.signUp("before@example.com", "password123", "Mover")
	c.post(requestEmailChange, map[string]any{"newEmail": "bad"}).wantError(t, http.StatusBadRequest, "INVALID_EMAIL")
	c.post(requestEmailChange, map[string]any{"newEmail": "BEFORE@example.com"}).wantMessage(t, http.StatusBadRequest, "Email is the same")
	c.post(requestEmailChange, map[string]any{"newEmail": "After@Example.com"}).wantStatus(t, http.StatusOK)
	m := smtpd.nextMail(t, "after@example.com")
	code := m.code(t)
	if got := otpValue(t, ts, "change-email-otp-"+sessionUser(t, c).ID+":after@example.com"); got != code+":0" {
		t.Fatalf("stored %q", got)
	}

	change := map[string]any{"newEmail": "after@example.com", "otp": wrongCode(code)}
	c.post(changeEmailByOTP, change).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	if u := sessionUser(t, c); u.Email != "before@example.com" {
		t.Fatalf("moved on a wrong code: %+v", u)
	}
	change["otp"] = code
	resp := c.post(changeEmailByOTP, change).wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"success":true}` || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("change-email = %s, cookies %v", resp.Body, resp.Header.Values("Set-Cookie"))
	}
	if u := sessionUser(t, c); u.Email != "after@example.com" || !u.EmailVerified {
		t.Fatalf("session user = %+v", u)
	}
	c.post(changeEmailByOTP, change).wantMessage(t, http.StatusBadRequest, "Email is the same")
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "after@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "before@example.com", "password": "password123"}).wantError(t, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
}

// TestEmailOTPChangeEmailCodeIsBoundToUserAndAddress ensures a code moves only the account that
// asked for it, and only to the address it was mailed to.
func TestEmailOTPChangeEmailCodeIsBoundToUserAndAddress(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, otpChangeEmailOn)
	owner := ts.client(t)
	owner.signUp("owner@example.com", "password123", "Owner")
	owner.post(requestEmailChange, map[string]any{"newEmail": "target@example.com"}).wantStatus(t, http.StatusOK)
	code := smtpd.nextMail(t, "target@example.com").code(t)

	thief := ts.client(t)
	thief.signUp("thief@example.com", "password123", "Thief")
	thief.post(changeEmailByOTP, map[string]any{"newEmail": "target@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	owner.post(changeEmailByOTP, map[string]any{"newEmail": "elsewhere@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	owner.post(changeEmailByOTP, map[string]any{"newEmail": "target@example.com", "otp": code}).wantStatus(t, http.StatusOK)
	if u := sessionUser(t, thief); u.Email != "thief@example.com" {
		t.Fatalf("thief = %+v", u)
	}
}

// TestEmailOTPChangeEmailToTakenAddress ensures a taken address gets the same answer and no
// code, and an address taken after the code was mailed is refused with "Email already in use".
func TestEmailOTPChangeEmailToTakenAddress(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, otpChangeEmailOn)
	ts.client(t).signUp("taken@example.com", "password123", "Taken")
	c := ts.client(t)
	c.signUp("wants@example.com", "password123", "Wants")
	c.post(requestEmailChange, map[string]any{"newEmail": "taken@example.com"}).wantStatus(t, http.StatusOK)
	if n := ts.rowCount(t, "verification"); n != 0 {
		t.Fatalf("%d codes stored for a taken address", n)
	}

	c.post(requestEmailChange, map[string]any{"newEmail": "late@example.com"}).wantStatus(t, http.StatusOK)
	code := smtpd.nextMail(t, "late@example.com").code(t)
	ts.client(t).signUp("late@example.com", "password123", "Late")
	c.post(changeEmailByOTP, map[string]any{"newEmail": "late@example.com", "otp": code}).wantMessage(t, http.StatusBadRequest, "Email already in use")
	waitOutboxEmpty(t, ts)
	if n := smtpd.count("taken@example.com"); n != 0 {
		t.Fatalf("the taken address got %d mails", n)
	}
	if u := sessionUser(t, c); u.Email != "wants@example.com" {
		t.Fatalf("session user = %+v", u)
	}
}

// TestEmailOTPChangeEmailVerifyCurrent ensures EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT makes
// request-email-change spend an email-verification code of the current address first.
func TestEmailOTPChangeEmailVerifyCurrent(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, otpChangeEmailOn, func(c *config) { c.Email.OTPChangeEmailVerifyCurrent = true })
	c := ts.client(t)
	c.signUp("current@example.com", "password123", "Current")
	c.post(requestEmailChange, map[string]any{"newEmail": "next@example.com"}).wantMessage(t, http.StatusBadRequest, "OTP is required to verify current email")
	current := sendOTP(t, ts, smtpd, "email-verification", "current@example.com")
	c.post(requestEmailChange, map[string]any{"newEmail": "next@example.com", "otp": wrongCode(current)}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	c.post(requestEmailChange, map[string]any{"newEmail": "next@example.com", "otp": current}).wantStatus(t, http.StatusOK)
	code := smtpd.nextMail(t, "next@example.com").code(t)
	c.post(requestEmailChange, map[string]any{"newEmail": "next@example.com", "otp": current}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
	c.post(changeEmailByOTP, map[string]any{"newEmail": "next@example.com", "otp": code}).wantStatus(t, http.StatusOK)
	if u := sessionUser(t, c); u.Email != "next@example.com" {
		t.Fatalf("session user = %+v", u)
	}
}
