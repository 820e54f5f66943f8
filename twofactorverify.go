package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The second factor (upstream packages/better-auth/src/plugins/two-factor/index.ts,
// packages/better-auth/src/plugins/two-factor/verify-two-factor.ts): the challenge that replaces a
// credential sign-in's session, the verify endpoints, their limits, and trusted devices.
//
// Every verification runs in one transaction that first locks the user's "twoFactor" row (or, for a
// user with codes by email only, the code's row), so the guesses of one user are judged one after
// the other, however many arrive at once. Each wrong guess is counted in one UPDATE before the
// transaction commits, and the counts are read under the same lock: fifty parallel wrong codes are
// fifty counted failures, and none of them is judged after the limit is reached.

const (
	cookieTwoFactor   = "two_factor"
	cookieTrustDevice = "trust_device"

	// Upstream's defaults of the options (TWO_FACTOR_* variables, twoFactorConfig).
	twoFactorChallengeTTL = 600 * time.Second   // upstream twoFactorCookieMaxAge
	trustDeviceTTL        = 30 * 24 * time.Hour // upstream trustDeviceMaxAge
	challengeAttempts     = 5                   // wrong TOTP or backup codes per challenge
	twoFactorOTPLength    = 6
	twoFactorOTPTTL       = 3 * time.Minute // upstream otpOptions.period
	twoFactorOTPAttempts  = 5               // upstream otpOptions.allowedAttempts
	lockoutFailures       = 10              // consecutive failures that lock the account
	lockoutDuration       = 15 * time.Minute
)

func attemptsID(challenge string) string { return "2fa-attempts-" + challenge }

// twoFactorCaller is whom a verify endpoint acts for (upstream's verifyTwoFactor in
// two-factor/verify-two-factor.ts): the user of the caller's own session ("re-verify"), or else the
// user of the sign-in challenge the two_factor cookie names.
type twoFactorCaller struct {
	user      user
	session   *authSession // nil while signing in
	challenge string       // while signing in: the two_factor cookie's value, "2fa-<20>"
}

func (c *twoFactorCaller) signingIn() bool { return c.session == nil }

// otpIdentifier names the caller's emailed code (upstream two-factor/otp/index.ts).
func (c *twoFactorCaller) otpIdentifier() string {
	if c.signingIn() {
		return "2fa-otp-" + c.challenge
	}
	return "2fa-otp-" + c.user.ID + "!" + c.session.Session.ID
}

func (s *server) twoFactorCaller(w http.ResponseWriter, r *http.Request) (*twoFactorCaller, error) {
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if err != nil {
		return nil, err
	}
	if as != nil {
		return &twoFactorCaller{user: as.User, session: as}, nil
	}
	challenge, ok := s.signedCookie(r, cookieTwoFactor)
	// Every signed cookie shares one key, so a signed value moved here from another cookie must not
	// name some other verification row: only the shape we issue is looked up.
	if !ok || len(challenge) != 24 || !strings.HasPrefix(challenge, "2fa-") {
		return nil, errInvalidTwoFactorCookie
	}
	v, err := s.findVerification(r.Context(), s.db, challenge)
	if err != nil {
		return nil, err
	}
	if v == nil || v.ExpiresAt.Before(s.now()) {
		return nil, errInvalidTwoFactorCookie
	}
	u, err := s.userByID(r.Context(), s.db, v.Value)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errInvalidTwoFactorCookie
	}
	return &twoFactorCaller{user: *u, challenge: challenge}, nil
}

// twoFactorOutcome is what a verification decided. It reaches the response only after the
// transaction commits, so no cookie ever names a session that was rolled back.
type twoFactorOutcome struct {
	refusal         *apiError    // answer with this error; the attempts counted still commit
	reply           any          // else answer 200 with this
	session         *authSession // set its cookies: a new sign-in, or a rotated session
	expireChallenge bool
	trust           string // a new trust_device value
}

func refuse(e *apiError) (*twoFactorOutcome, error) { return &twoFactorOutcome{refusal: e}, nil }

// tokenUserReply is the verify endpoints' answer; the token is absent when no session applies.
type tokenUserReply struct {
	Token string `json:"token,omitempty"`
	User  user   `json:"user"`
}

// verifySecondFactor runs judge in one transaction and answers with its outcome, cookies in
// upstream's order: session, challenge, trusted device.
func (s *server) verifySecondFactor(w http.ResponseWriter, r *http.Request, judge func(ctx context.Context, tx pgx.Tx) (*twoFactorOutcome, error)) error {
	var out *twoFactorOutcome
	err := inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		var err error
		out, err = judge(r.Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	if out.session != nil {
		s.resetSessionCookie(w, r, out.session)
	}
	if out.expireChallenge {
		s.expireCookie(w, cookieTwoFactor)
	}
	if out.trust != "" {
		s.setSignedCookie(w, cookieTrustDevice, out.trust, cookieOpts{maxAge: int(s.cfg.TwoFactor.trustDeviceTTL().Seconds())})
		// As upstream: a device the user trusts keeps its session beyond the browser session.
		s.expireCookie(w, cookieDontRemember)
	}
	if out.refusal != nil {
		return out.refusal
	}
	writeJSON(w, http.StatusOK, out.reply)
	return nil
}

// accountLock refuses while the account is locked and clears a lock that has run out
// (upstream's assertTwoFactorNotLocked).
func (s *server) accountLock(ctx context.Context, tx pgx.Tx, row *twoFactorRow) (*twoFactorOutcome, error) {
	if row == nil || row.LockedUntil == nil {
		return nil, nil
	}
	if row.LockedUntil.After(s.now()) {
		return refuse(errAccountLocked)
	}
	if _, err := tx.Exec(ctx, `UPDATE "twoFactor" SET "failedVerificationCount" = 0, "lockedUntil" = NULL WHERE id = $1`, row.ID); err != nil {
		return nil, fmt.Errorf("clear two-factor lock: %w", err)
	}
	return nil, nil
}

// signInLimits applies a sign-in's limits before a TOTP or backup code is judged (upstream
// verifyTwoFactor): the account lock, then the challenge's five attempts. A spent challenge dies
// with its cookie.
func (s *server) signInLimits(ctx context.Context, tx pgx.Tx, c *twoFactorCaller, row *twoFactorRow) (*twoFactorOutcome, error) {
	if out, err := s.accountLock(ctx, tx, row); out != nil || err != nil {
		return out, err
	}
	v, err := s.findVerification(ctx, tx, attemptsID(c.challenge))
	if err != nil {
		return nil, fmt.Errorf("read challenge attempts: %w", err)
	}
	if v == nil || v.ExpiresAt.Before(s.now()) {
		return refuse(errInvalidTwoFactorCookie)
	}
	n, err := strconv.Atoi(v.Value)
	if err == nil && n >= 0 && n < challengeAttempts {
		return nil, nil
	}
	// A count that does not parse is spent, as upstream reads it.
	for _, id := range []string{c.challenge, attemptsID(c.challenge)} {
		if err := s.deleteVerification(ctx, tx, id); err != nil {
			return nil, fmt.Errorf("end challenge: %w", err)
		}
	}
	return &twoFactorOutcome{refusal: errTooManyAttemptsNewCode, expireChallenge: true}, nil
}

// countFailure records a wrong code while signing in, each counter in one statement: against the
// challenge (TOTP and backup codes, perChallenge) and against the account, which locks when its
// count reaches lockoutFailures. The count spans challenges and factors, as upstream's.
func (s *server) countFailure(ctx context.Context, tx pgx.Tx, c *twoFactorCaller, row *twoFactorRow, perChallenge bool) error {
	if !c.signingIn() {
		return nil
	}
	if perChallenge {
		err := s.judgeVerification(ctx, tx, attemptsID(c.challenge), func(v *verification) (verificationChange, string) {
			if v == nil || len(v.Value) > 9 {
				return keepVerification, ""
			}
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 0 {
				return keepVerification, ""
			}
			return rewriteVerification, strconv.Itoa(n + 1)
		})
		if err != nil {
			return fmt.Errorf("count challenge attempt: %w", err)
		}
	}
	if row == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE "twoFactor" SET
			"failedVerificationCount" = COALESCE("failedVerificationCount", 0) + 1,
			"lockedUntil" = CASE WHEN COALESCE("failedVerificationCount", 0) + 1 >= $2 THEN $3 ELSE "lockedUntil" END
		WHERE id = $1`, row.ID, lockoutFailures, s.now().Add(lockoutDuration)); err != nil {
		return fmt.Errorf("count two-factor failure: %w", err)
	}
	return nil
}

// clearFailures: the lockout counts consecutive failures, so a right code while signing in
// clears the count.
func (s *server) clearFailures(ctx context.Context, tx pgx.Tx, c *twoFactorCaller, row *twoFactorRow) error {
	if !c.signingIn() || row == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE "twoFactor" SET "failedVerificationCount" = 0, "lockedUntil" = NULL WHERE id = $1`, row.ID); err != nil {
		return fmt.Errorf("clear two-factor failures: %w", err)
	}
	return nil
}

// twoFactorValid finishes a verified second factor (upstream's valid()). A sign-in spends its
// challenge and gets a session, remembered unless the dont_remember cookie says otherwise, and
// a trusted device when asked; a caller with a session gets its own token and user back.
func (s *server) twoFactorValid(ctx context.Context, tx pgx.Tx, r *http.Request, c *twoFactorCaller, trustDevice bool) (*twoFactorOutcome, error) {
	if !c.signingIn() {
		return &twoFactorOutcome{reply: tokenUserReply{c.session.Session.Token, c.session.User}}, nil
	}
	v, err := s.consumeVerification(ctx, tx, c.challenge)
	if err != nil {
		return nil, err
	}
	if v == nil || v.Value != c.user.ID {
		return &twoFactorOutcome{refusal: errInvalidTwoFactorCookie, expireChallenge: true}, nil
	}
	if err := s.deleteVerification(ctx, tx, attemptsID(c.challenge)); err != nil {
		return nil, fmt.Errorf("end challenge: %w", err)
	}
	sess, err := s.createSession(ctx, tx, r, c.user.ID, s.dontRemember(r))
	if err != nil {
		return nil, err
	}
	out := &twoFactorOutcome{
		reply:           tokenUserReply{sess.Token, c.user},
		session:         &authSession{Session: sess, User: c.user},
		expireChallenge: true,
	}
	if trustDevice {
		if out.trust, err = s.newTrustedDevice(ctx, tx, c.user.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// twoFactorRequest decodes a verify endpoint's body into dst and resolves its caller.
func (s *server) twoFactorRequest(w http.ResponseWriter, r *http.Request, dst any) (*twoFactorCaller, error) {
	if err := s.decode(r, dst, jsonOnly); err != nil {
		return nil, err
	}
	return s.twoFactorCaller(w, r)
}

// codeBody is the body of verify-totp and verify-otp.
type codeBody struct {
	Code        string `json:"code" required:"true"`
	TrustDevice bool   `json:"trustDevice"`
}

// codeRow finds the caller's twoFactor row, locked, for judging a TOTP or backup code: refused
// with notEnabled when there is none or usable says no, and held to a sign-in's limits.
func (s *server) codeRow(ctx context.Context, tx pgx.Tx, c *twoFactorCaller, notEnabled *apiError, usable func(*twoFactorRow) bool) (*twoFactorRow, *twoFactorOutcome, error) {
	row, err := s.findTwoFactor(ctx, tx, c.user.ID, true)
	if err != nil {
		return nil, nil, err
	}
	if row == nil || !usable(row) {
		out, err := refuse(notEnabled)
		return nil, out, err
	}
	if c.signingIn() {
		if out, err := s.signInLimits(ctx, tx, c, row); out != nil || err != nil {
			return nil, out, err
		}
	}
	return row, nil, nil
}

func (s *server) handleVerifyTOTP(w http.ResponseWriter, r *http.Request) error {
	var body codeBody
	c, err := s.twoFactorRequest(w, r, &body)
	if err != nil {
		return err
	}
	return s.verifySecondFactor(w, r, func(ctx context.Context, tx pgx.Tx) (*twoFactorOutcome, error) {
		// A secret no code has confirmed yet does not sign anyone in (better-auth#10923).
		row, out, err := s.codeRow(ctx, tx, c, errTOTPNotEnabled, func(row *twoFactorRow) bool { return !c.signingIn() || row.verified() })
		if out != nil || err != nil {
			return out, err
		}
		key, err := s.totpKey(row.Secret)
		if err != nil {
			return nil, err
		}
		step, ok := matchTOTP(key, body.Code, s.now())
		if ok {
			// RFC 6238 section 5.2: once a code is accepted, neither it nor an earlier step's code is
			// again. Stops a code seen over a shoulder or in a log from being used a second time.
			tag, err := tx.Exec(ctx, `UPDATE "twoFactor" SET "lastUsedStep" = $2
				WHERE id = $1 AND ("lastUsedStep" IS NULL OR "lastUsedStep" < $2)`, row.ID, step)
			if err != nil {
				return nil, fmt.Errorf("mark totp step: %w", err)
			}
			ok = tag.RowsAffected() == 1
		}
		if !ok {
			if err := s.countFailure(ctx, tx, c, row, true); err != nil {
				return nil, err
			}
			return refuse(errInvalidCode)
		}
		if err := s.clearFailures(ctx, tx, c, row); err != nil {
			return nil, err
		}
		var rotated *authSession
		if row.Verified == nil || !*row.Verified {
			// The first code confirms the enrolment; a user enabling TOTP as a first factor gets
			// two-factor on and a new session.
			if !c.signingIn() && !c.user.TwoFactorEnabled {
				if rotated, err = s.setTwoFactorEnabled(ctx, tx, c.session, true); err != nil {
					return nil, err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE "twoFactor" SET verified = true WHERE id = $1`, row.ID); err != nil {
				return nil, fmt.Errorf("confirm totp: %w", err)
			}
		}
		out, err = s.twoFactorValid(ctx, tx, r, c, body.TrustDevice)
		if err != nil {
			return nil, err
		}
		if rotated != nil {
			// Upstream's quirk, kept (upstream two-factor/verify-two-factor.ts): the reply carries
			// the token and user from before the rotation; only the cookie carries the new session.
			out.session = rotated
		}
		return out, nil
	})
}

func (s *server) handleVerifyBackupCode(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Code           string `json:"code" required:"true"`
		DisableSession bool   `json:"disableSession"`
		TrustDevice    bool   `json:"trustDevice"`
	}
	c, err := s.twoFactorRequest(w, r, &body)
	if err != nil {
		return err
	}
	return s.verifySecondFactor(w, r, func(ctx context.Context, tx pgx.Tx) (*twoFactorOutcome, error) {
		row, out, err := s.codeRow(ctx, tx, c, errBackupCodesNotEnabled, func(*twoFactorRow) bool { return true })
		if out != nil || err != nil {
			return out, err
		}
		codes, ok := s.openBackupCodes(row.BackupCodes)
		rest, found := spendBackupCode(codes, body.Code)
		if !ok || !found {
			if err := s.countFailure(ctx, tx, c, row, true); err != nil {
				return nil, err
			}
			return refuse(errInvalidBackupCode)
		}
		sealed, err := s.sealBackupCodes(rest)
		if err != nil {
			return nil, err
		}
		// The row lock already orders our own verifications; the compare-and-swap is upstream's,
		// and guards against a Node server sharing the table.
		tag, err := tx.Exec(ctx, `UPDATE "twoFactor" SET "backupCodes" = $3 WHERE id = $1 AND "backupCodes" = $2`,
			row.ID, row.BackupCodes, sealed)
		if err != nil {
			return nil, fmt.Errorf("spend backup code: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return refuse(errBackupCodeConflict)
		}
		if err := s.clearFailures(ctx, tx, c, row); err != nil {
			return nil, err
		}
		if !body.DisableSession {
			return s.twoFactorValid(ctx, tx, r, c, body.TrustDevice)
		}
		// The code is checked without signing in: no session, no cookie. A sign-in challenge is
		// left without attempts, as upstream leaves it.
		if !c.signingIn() {
			return &twoFactorOutcome{reply: tokenUserReply{c.session.Session.Token, c.user}}, nil
		}
		if err := s.deleteVerification(ctx, tx, attemptsID(c.challenge)); err != nil {
			return nil, fmt.Errorf("end challenge attempts: %w", err)
		}
		return &twoFactorOutcome{reply: tokenUserReply{User: c.user}}, nil
	})
}

func (s *server) handleSendTwoFactorOTP(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		TrustDevice bool `json:"trustDevice"` // accepted as upstream does; verify-otp decides
	}
	c, err := s.twoFactorRequest(w, r, &body)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		code, err := s.makeOTP(r.Context(), tx, c.otpIdentifier(), s.cfg.TwoFactor.otpDigits(), s.cfg.TwoFactor.otpTTL())
		if err != nil {
			return err
		}
		return s.enqueueMail(r.Context(), tx, mail{Type: "two-factor-otp", Email: c.user.Email, OTP: code})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

func (s *server) handleVerifyTwoFactorOTP(w http.ResponseWriter, r *http.Request) error {
	var body codeBody
	c, err := s.twoFactorRequest(w, r, &body)
	if err != nil {
		return err
	}
	return s.verifySecondFactor(w, r, func(ctx context.Context, tx pgx.Tx) (*twoFactorOutcome, error) {
		var row *twoFactorRow
		if c.signingIn() {
			var err error
			if row, err = s.findTwoFactor(ctx, tx, c.user.ID, true); err != nil {
				return nil, err
			}
			if out, err := s.accountLock(ctx, tx, row); out != nil || err != nil {
				return out, err
			}
		}
		verdict, err := s.checkStoredOTP(ctx, tx, c.otpIdentifier(), body.Code, s.cfg.TwoFactor.otpAttempts(), false)
		switch {
		case err != nil:
			return nil, err
		case verdict == otpMissing || verdict == otpExpired:
			return refuse(errOTPHasExpired)
		case verdict == otpExhausted:
			return refuse(errTooManyAttemptsNewCode)
		case verdict == otpWrong:
			if err := s.countFailure(ctx, tx, c, row, false); err != nil {
				return nil, err
			}
			return refuse(errInvalidCode)
		}
		if err := s.clearFailures(ctx, tx, c, row); err != nil {
			return nil, err
		}
		if !c.user.TwoFactorEnabled {
			// A code sent to a signed-in user's email turns codes by email on (upstream
			// two-factor/otp/index.ts).
			if c.signingIn() {
				return refuse(errFailedToCreateSession)
			}
			rotated, err := s.setTwoFactorEnabled(ctx, tx, c.session, true)
			if err != nil {
				return nil, err
			}
			return &twoFactorOutcome{reply: tokenUserReply{rotated.Session.Token, rotated.User}, session: rotated}, nil
		}
		return s.twoFactorValid(ctx, tx, r, c, body.TrustDevice)
	})
}

// twoFactorAfterSignIn is upstream's after-hook on credential sign-in (upstream
// two-factor/index.ts, hooks), run once the new session exists and its cookies are set. A user
// without two-factor keeps the session, and so does one on a device holding a valid trust_device
// cookie, which is rotated. Anyone else gets a challenge instead: the session is deleted, its
// cookies expired, and the reply is {twoFactorRedirect, twoFactorMethods} with the two_factor
// cookie. It reports whether it replied.
func (s *server) twoFactorAfterSignIn(w http.ResponseWriter, r *http.Request, as *authSession) (bool, error) {
	if !as.User.TwoFactorEnabled {
		return false, nil
	}
	ctx := r.Context()
	if value, ok := s.signedCookie(r, cookieTrustDevice); ok {
		next, err := s.rotateTrustedDevice(ctx, as.User.ID, value)
		if err != nil {
			return false, err
		}
		if next != "" {
			s.setSignedCookie(w, cookieTrustDevice, next, cookieOpts{maxAge: int(s.cfg.TwoFactor.trustDeviceTTL().Seconds())})
			return false, nil
		}
		s.expireCookie(w, cookieTrustDevice)
	}
	challenge := "2fa-" + randomString(20, defaultAlpha)
	methods := []string{}
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := s.endSession(ctx, tx, as.Session.Token); err != nil {
			return fmt.Errorf("withhold session: %w", err)
		}
		expires := s.now().Add(s.cfg.TwoFactor.challengeTTL())
		if err := s.createVerification(ctx, tx, challenge, as.User.ID, expires); err != nil {
			return err
		}
		if err := s.createVerification(ctx, tx, attemptsID(challenge), "0", expires); err != nil {
			return err
		}
		row, err := s.findTwoFactor(ctx, tx, as.User.ID, false)
		if err != nil {
			return err
		}
		if row != nil && row.verified() {
			methods = append(methods, "totp")
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	// Codes by email are always on here: every user has an address to send them to.
	methods = append(methods, "otp")
	s.metrics.twoFactorChallenge()
	noteChallenge(r)
	// dont_remember stays, for the verify step to honour the remember-me choice.
	s.expireCookie(w, cookieSessionToken)
	s.expireCookie(w, cookieSessionData)
	s.expireChunks(w, r, cookieSessionData)
	s.setSignedCookie(w, cookieTwoFactor, challenge, cookieOpts{maxAge: int(s.cfg.TwoFactor.challengeTTL().Seconds())})
	writeJSON(w, http.StatusOK, struct {
		TwoFactorRedirect bool     `json:"twoFactorRedirect"`
		TwoFactorMethods  []string `json:"twoFactorMethods"`
	}{true, methods})
	return true, nil
}

// trustDeviceToken binds a trusted-device identifier to its user:
// base64url_nopad(HMAC-SHA256(secret, userId "!" identifier)), as upstream computes it.
func (s *server) trustDeviceToken(userID, identifier string) string {
	mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
	mac.Write([]byte(userID + "!" + identifier))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// newTrustedDevice stores a trusted device for userID and returns the trust_device cookie value
// "<token>!trust-device-<32>".
func (s *server) newTrustedDevice(ctx context.Context, q querier, userID string) (string, error) {
	identifier := "trust-device-" + randomString(32, defaultAlpha)
	if err := s.createVerification(ctx, q, identifier, userID, s.now().Add(s.cfg.TwoFactor.trustDeviceTTL())); err != nil {
		return "", err
	}
	return s.trustDeviceToken(userID, identifier) + "!" + identifier, nil
}

// rotateTrustedDevice checks a trust_device cookie value for userID. A good one is spent and its
// successor returned; otherwise "". Spending it in one DELETE makes each value single-use: of two
// sign-ins presenting the same cookie at once, one skips the second factor and the other is asked.
func (s *server) rotateTrustedDevice(ctx context.Context, userID, value string) (string, error) {
	parts := strings.Split(value, "!")
	if len(parts) < 2 || !strings.HasPrefix(parts[1], "trust-device-") {
		return "", nil
	}
	token, identifier := parts[0], parts[1]
	if !hmac.Equal([]byte(token), []byte(s.trustDeviceToken(userID, identifier))) {
		return "", nil
	}
	var next string
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		spent := false
		err := s.judgeVerification(ctx, tx, identifier, func(v *verification) (verificationChange, string) {
			spent = v != nil && v.Value == userID && v.ExpiresAt.After(s.now())
			if !spent {
				return keepVerification, ""
			}
			return dropVerification, ""
		})
		if err != nil {
			return fmt.Errorf("spend trusted device: %w", err)
		}
		if !spent {
			return nil
		}
		next, err = s.newTrustedDevice(ctx, tx, userID)
		return err
	})
	return next, err
}
