package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Email OTP (upstream packages/better-auth/src/plugins/email-otp/routes.ts): six-digit codes, valid
// five minutes, three wrong tries. A code lives in the verification table under
// "<type>-otp-<email>" with the value "<code>:<attempts>". The storing and judging of codes is
// otp.go's.

// Upstream's defaults of the plugin's options (EMAIL_OTP_LENGTH, _EXPIRES_IN, _ALLOWED_ATTEMPTS).
const (
	otpLength          = 6
	otpExpiresIn       = 5 * time.Minute
	otpAllowedAttempts = 3
)

// otpTypes are the values of "type" the endpoints accept, in upstream's order.
var otpTypes = []string{"email-verification", "sign-in", "forget-password", "change-email"}

var (
	errOTPExpired      = apiErr(400, "OTP_EXPIRED", "OTP expired")
	errInvalidOTP      = apiErr(400, "INVALID_OTP", "Invalid OTP")
	errTooManyAttempts = apiErr(403, "TOO_MANY_ATTEMPTS", "Too many attempts")
	errInvalidOTPType  = apiErr(400, "", "Invalid OTP type")
	errBadOTPTypeField = validationError(`[body.type] Invalid option: expected one of "email-verification"|"sign-in"|"forget-password"|"change-email"`)
)

func otpIdentifier(typ, email string) string { return typ + "-otp-" + email }

func checkOTPType(typ string) error {
	for _, t := range otpTypes {
		if typ == t {
			return nil
		}
	}
	return errBadOTPTypeField
}

// answerOTPRequest runs issue (which makes and mails a code, or decides not to) in a transaction
// and answers {"success":true} no sooner than a request that mails would, so neither the answer
// nor its timing tells whether the address has an account.
func (s *server) answerOTPRequest(w http.ResponseWriter, r *http.Request, issue func(tx pgx.Tx) error) error {
	start := time.Now()
	if err := inTx(r.Context(), s.db, issue); err != nil {
		return err
	}
	s.holdAnswer(r.Context(), start)
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

// decodeOTPEmail decodes an OTP endpoint's body and returns its email field (email points
// into body) checked as otpEmail does, after the type field when typ points to one.
func (s *server) decodeOTPEmail(r *http.Request, body any, email, typ *string) (string, error) {
	if err := s.decode(r, body, jsonOnly); err != nil {
		return "", err
	}
	if typ != nil {
		if err := checkOTPType(*typ); err != nil {
			return "", err
		}
	}
	return otpEmail(*email)
}

// otpEmail lowercases and checks an email as the OTP endpoints do: 400 INVALID_EMAIL, not a
// validation error.
func otpEmail(email string) (string, error) {
	email = strings.ToLower(email)
	if !validEmail(email) {
		return "", errInvalidEmail
	}
	return email, nil
}

// issueOTP replaces any code of this type for email. When send is set it stores a new code and
// mails it to to; otherwise it only removes the old one, as upstream does when there is nobody
// to send to.
func (s *server) issueOTP(ctx context.Context, tx pgx.Tx, typ, email, to string, send bool) error {
	identifier := otpIdentifier(typ, email)
	if !send {
		return s.deleteVerification(ctx, tx, identifier)
	}
	code, err := s.makeOTP(ctx, tx, identifier, s.cfg.Email.otpLength(), s.cfg.Email.otpTTL())
	if err != nil {
		return err
	}
	return s.enqueueMail(ctx, tx, mail{Type: "email-otp", Email: to, OTP: code, OTPType: typ})
}

// verifyOTP is checkOTP in a transaction of its own, committed whatever the verdict so that a
// wrong guess stays counted and a dead code stays deleted.
func (s *server) verifyOTP(ctx context.Context, identifier, code string, keep bool) error {
	var verdict error
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		verdict = s.checkOTP(ctx, tx, identifier, code, keep)
		if _, refused := verdict.(*apiError); refused {
			return nil
		}
		return verdict
	})
	if err != nil {
		return err
	}
	return verdict
}

// otpUser checks a code mailed to email for purpose and returns the user it was sent to. The
// caller holds the code, so a missing user reveals nothing new.
func (s *server) otpUser(ctx context.Context, purpose, email, code string, keep bool) (*user, error) {
	if err := s.verifyOTP(ctx, otpIdentifier(purpose, email), code, keep); err != nil {
		return nil, err
	}
	u, err := s.userByEmail(ctx, s.db, email)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errUserNotFound
	}
	return u, nil
}

// checkOTP judges code against the newest code stored under identifier, inside tx, with
// upstream's outcomes: 400 OTP_EXPIRED (the code is removed), 403 TOO_MANY_ATTEMPTS once three
// wrong guesses were made (the code is removed, whatever this guess is), 400 INVALID_OTP for a
// wrong guess (counted) or no code. A right code is spent, or with keep left in place, uncounted,
// for a later call that spends it. The row stays locked until tx ends.
func (s *server) checkOTP(ctx context.Context, tx pgx.Tx, identifier, code string, keep bool) error {
	verdict, err := s.checkStoredOTP(ctx, tx, identifier, code, s.cfg.Email.otpAttempts(), keep)
	if err != nil {
		return err
	}
	switch verdict {
	case otpExpired:
		return errOTPExpired
	case otpExhausted:
		return errTooManyAttempts
	case otpWrong, otpMissing:
		return errInvalidOTP
	}
	return nil
}

func (s *server) handleSendVerificationOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email" required:"true"`
		Type  string `json:"type"`
	}
	email, err := s.decodeOTPEmail(r, &body, &body.Email, &body.Type)
	if err != nil {
		return err
	}
	if body.Type == "change-email" {
		return errInvalidOTPType
	}
	return s.answerOTPRequest(w, r, func(tx pgx.Tx) error {
		u, err := s.userByEmail(r.Context(), tx, email)
		if err != nil {
			return err
		}
		// Unknown emails get the same answer; only sign-in may mail them (to sign them up).
		send := u != nil || (body.Type == "sign-in" && s.cfg.Email.PasswordlessSignUp && !s.cfg.Email.OTPDisableSignUp)
		to := email
		if u != nil {
			to = u.Email
		}
		return s.issueOTP(r.Context(), tx, body.Type, email, to, send)
	})
}

func (s *server) handleCheckVerificationOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email" required:"true"`
		Type  string `json:"type"`
		OTP   string `json:"otp" required:"true"`
	}
	email, err := s.decodeOTPEmail(r, &body, &body.Email, &body.Type)
	if err != nil {
		return err
	}
	if _, err := s.otpUser(r.Context(), body.Type, email, body.OTP, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

func (s *server) handleVerifyEmailOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email" required:"true"`
		OTP   string `json:"otp" required:"true"`
	}
	email, err := s.decodeOTPEmail(r, &body, &body.Email, nil)
	if err != nil {
		return err
	}
	u, err := s.otpUser(r.Context(), "email-verification", email, body.OTP, false)
	if err != nil {
		return err
	}
	if _, err := s.markEmailVerified(r.Context(), s.db, u.ID, false, u); err != nil {
		return err
	}
	if s.cfg.Email.AutoSignInAfterVerification {
		sess, err := s.createSession(r.Context(), s.db, r, u.ID, false)
		if err != nil {
			return err
		}
		s.resetSessionCookie(w, r, &authSession{Session: sess, User: *u})
		writeJSON(w, http.StatusOK, map[string]any{"status": true, "token": sess.Token, "user": u})
		return nil
	}
	current, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	if current != nil && current.User.ID == u.ID {
		s.writeCookieCache(w, r, &authSession{Session: current.Session, User: *u}, s.dontRemember(r))
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": true, "token": nil, "user": u})
	return nil
}

func (s *server) handleSignInEmailOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string  `json:"email" required:"true"`
		OTP   string  `json:"otp" required:"true"`
		Name  *string `json:"name"`
		Image *string `json:"image"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	email := strings.ToLower(body.Email)
	if err := s.verifyOTP(r.Context(), otpIdentifier("sign-in", email), body.OTP, false); err != nil {
		return err
	}
	name := ""
	if body.Name != nil {
		name = *body.Name
	}
	var out magicLinkOutcome
	err := inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		var err error
		out, err = s.passwordlessSignIn(r.Context(), tx, r, email, name, body.Image)
		return err
	})
	if err != nil {
		return err
	}
	if out.errCode != "" {
		noteErrorCode(r, out.errCode) // the metrics' reason: the answer hides it as a wrong code
		return errInvalidOTP          // sign-up is off: upstream answers as for a wrong code
	}
	s.resetSessionCookie(w, r, &out.as)
	writeJSON(w, http.StatusOK, map[string]any{"token": out.as.Session.Token, "user": out.as.User})
	return nil
}

// handleRequestPasswordResetOTP serves /email-otp/request-password-reset and the deprecated
// /forget-password/email-otp: the same answer whether or not the email has an account.
func (s *server) handleRequestPasswordResetOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email string `json:"email" required:"true"`
	}
	email, err := s.decodeOTPEmail(r, &body, &body.Email, nil)
	if err != nil {
		return err
	}
	return s.answerOTPRequest(w, r, func(tx pgx.Tx) error {
		u, err := s.userByEmail(r.Context(), tx, email)
		if err != nil {
			return err
		}
		to := email
		if u != nil {
			to = u.Email
		}
		return s.issueOTP(r.Context(), tx, "forget-password", email, to, u != nil)
	})
}

func (s *server) handleResetPasswordOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email    string `json:"email" required:"true"`
		OTP      string `json:"otp" required:"true"`
		Password string `json:"password" required:"true"`
	}
	email, err := s.decodeOTPEmail(r, &body, &body.Email, nil)
	if err != nil {
		return err
	}
	if err := s.checkNewPassword(body.Password); err != nil {
		return err
	}
	// First pass: count the guess and keep a right code, so a wrong one costs no scrypt run.
	u, err := s.otpUser(r.Context(), "forget-password", email, body.OTP, true)
	if err != nil {
		return err
	}
	hash, err := s.hashPassword(r.Context(), body.Password)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		// Second pass spends the code in the transaction that changes the password.
		if err := s.checkOTP(r.Context(), tx, otpIdentifier("forget-password", email), body.OTP, false); err != nil {
			return err
		}
		if err := s.resetCredentialPassword(r.Context(), tx, u.ID, hash); err != nil {
			return err
		}
		// Holding the code proves the address.
		_, err := s.markEmailVerified(r.Context(), tx, u.ID, true, u)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}

// Change email by code (upstream's emailOTP changeEmail option, off by default as
// upstream ships it): request-email-change mails a code to the new address, change-email spends
// it and moves the account there, verified. The code is bound to the user and the new address
// ("change-email-otp-<userId>:<newEmail>"), so it cannot move another account or to another
// address. A taken address gets the same answer and no code.

var (
	errOTPChangeEmailDisabled = apiErr(400, "", "Change email with OTP is disabled")
	errCurrentEmailOTPMissing = apiErr(400, "", "OTP is required to verify current email")
	errEmailInUse             = apiErr(400, "", "Email already in use")
)

// otpEmailChange checks what both change-email endpoints check, in upstream's order, and returns
// the caller's session and the new address, lowercased.
func (s *server) otpEmailChange(w http.ResponseWriter, r *http.Request, newEmail string) (*authSession, string, error) {
	as, err := s.requireSession(w, r, sensitiveSession)
	if err != nil {
		return nil, "", err
	}
	if !s.cfg.Email.OTPChangeEmail {
		return nil, "", errOTPChangeEmailDisabled
	}
	newEmail, err = otpEmail(newEmail)
	if err != nil {
		return nil, "", err
	}
	if newEmail == strings.ToLower(as.User.Email) {
		return nil, "", errEmailIsTheSame
	}
	return as, newEmail, nil
}

func (s *server) handleRequestEmailChangeOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewEmail string `json:"newEmail" required:"true"`
		OTP      string `json:"otp"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, newEmail, err := s.otpEmailChange(w, r, body.NewEmail)
	if err != nil {
		return err
	}
	if s.cfg.Email.OTPChangeEmailVerifyCurrent {
		// The current address must prove itself too, so a stolen session alone cannot move
		// the account.
		if body.OTP == "" {
			return errCurrentEmailOTPMissing
		}
		if err := s.verifyOTP(r.Context(), otpIdentifier("email-verification", strings.ToLower(as.User.Email)), body.OTP, false); err != nil {
			return err
		}
	}
	return s.answerOTPRequest(w, r, func(tx pgx.Tx) error {
		taken, err := s.userByEmail(r.Context(), tx, newEmail)
		if err != nil {
			return err
		}
		return s.issueOTP(r.Context(), tx, "change-email", as.User.ID+":"+newEmail, newEmail, taken == nil)
	})
}

func (s *server) handleChangeEmailOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewEmail string `json:"newEmail" required:"true"`
		OTP      string `json:"otp" required:"true"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, newEmail, err := s.otpEmailChange(w, r, body.NewEmail)
	if err != nil {
		return err
	}
	if err := s.verifyOTP(r.Context(), otpIdentifier("change-email", as.User.ID+":"+newEmail), body.OTP, false); err != nil {
		return err
	}
	var u user
	err = s.db.QueryRow(r.Context(), `UPDATE "user" u SET email = $2, "emailVerified" = true, "updatedAt" = $3
		WHERE u.id = $1 RETURNING `+s.userColumns, as.User.ID, newEmail, s.now()).Scan(u.scanTargets()...)
	switch {
	case isUniqueViolation(err, ""):
		return errEmailInUse // the caller holds the code, so this reveals nothing new
	case isNoRows(err):
		return errUserNotFound
	case err != nil:
		return fmt.Errorf("change email: %w", err)
	}
	if err := s.userChanged(r.Context(), &u); err != nil {
		return err
	}
	as.User = u
	s.resetSessionCookie(w, r, as)
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}
