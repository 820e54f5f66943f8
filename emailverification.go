package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Email verification (upstream packages/better-auth/src/api/routes/email-verification.ts,
// sendVerificationEmail, verifyEmail): a signed link, mailed at sign-up, on a refused sign-in, on
// request and by change-email; opening it marks the email verified or applies an email change.

var (
	errEmailNotVerified     = apiErr(403, "EMAIL_NOT_VERIFIED", "Email not verified")
	errEmailMismatch        = apiErr(400, "EMAIL_MISMATCH", "Email mismatch")
	errEmailAlreadyVerified = apiErr(400, "EMAIL_ALREADY_VERIFIED", "Email is already verified")
	errInvalidUser          = apiErr(400, "INVALID_USER", "Invalid user")
)

// verifyEmailURL is the link of every verification mail (upstream sendVerificationEmailFn).
func (s *server) verifyEmailURL(r *http.Request, token, callbackURL string) string {
	return s.baseURL(r) + "/verify-email?token=" + token + "&callbackURL=" + encodeURIComponent(cmp.Or(callbackURL, "/"))
}

// enqueueEmailToken mails to the link for a verification token with claims c, valid for
// emailVerification.expiresIn.
func (s *server) enqueueEmailToken(ctx context.Context, q querier, r *http.Request, to string, c emailClaims, callbackURL string) error {
	return s.enqueueEmailTokenFor(ctx, q, r, to, c, callbackURL, s.cfg.Email.verificationTTL())
}

func (s *server) enqueueEmailTokenFor(ctx context.Context, q querier, r *http.Request, to string, c emailClaims, callbackURL string, expiresIn time.Duration) error {
	token, err := s.signEmailToken(c, expiresIn)
	if err != nil {
		return err
	}
	return s.enqueueMail(ctx, q, mail{Type: "verify-email", Email: to, URL: s.verifyEmailURL(r, token, callbackURL), Token: token})
}

// enqueueVerificationEmail mails u the link that verifies its current email.
func (s *server) enqueueVerificationEmail(ctx context.Context, q querier, r *http.Request, u *user, callbackURL string) error {
	return s.enqueueEmailToken(ctx, q, r, u.Email, emailClaims{Email: strings.ToLower(u.Email), UserID: u.ID}, callbackURL)
}

// refuseUnverified answers an email+password sign-in of an unverified user when verification is
// required (upstream signInEmail): 403, after mailing a fresh link when
// SEND_VERIFICATION_ON_SIGN_IN is on.
func (s *server) refuseUnverified(r *http.Request, u *user, callbackURL string) error {
	if s.cfg.Email.SendOnSignIn {
		if err := s.enqueueVerificationEmail(r.Context(), s.db, r, u, callbackURL); err != nil {
			return err
		}
	}
	return errEmailNotVerified
}

// writeSyntheticSignUp answers a sign-up for a taken email when verification is required, as
// upstream does (upstream signUpEmail): 200 with a made-up user, so sign-up does not reveal which
// emails have accounts. The password is hashed anyway so the answer takes as long as a real
// sign-up.
// The made-up user carries the configured fields as the sign-up gave them, as upstream's
// buildSyntheticUserOutput does.
func (s *server) writeSyntheticSignUp(w http.ResponseWriter, r *http.Request, name, email, password string, image *string, extra fieldWrite) error {
	if _, err := s.hashPassword(r.Context(), password); err != nil {
		return err
	}
	now := jsTime(s.now())
	u := user{ID: generateID(32), Name: name, Email: strings.ToLower(email), Image: image, CreatedAt: now, UpdatedAt: now}
	u.Extra = s.cfg.userFields().synthetic(extra)
	writeJSON(w, http.StatusOK, map[string]any{"token": nil, "user": u})
	return nil
}

func (s *server) handleSendVerificationEmail(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email       string `json:"email" required:"true"`
		CallbackURL string `json:"callbackURL"`
	}
	if err := s.decodeWithEmail(r, &body, jsonOnly, &body.Email); err != nil {
		return err
	}
	as, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	if as == nil {
		// Without a session the answer is always the same, after the same time, whether the
		// email has an unverified account, a verified one or none.
		start := time.Now()
		u, err := s.userByEmail(r.Context(), s.db, body.Email)
		if err == nil && u != nil && !u.EmailVerified {
			err = s.enqueueVerificationEmail(r.Context(), s.db, r, u, body.CallbackURL)
		} else if err == nil {
			_, err = s.signEmailToken(emailClaims{Email: strings.ToLower(body.Email)}, s.cfg.Email.verificationTTL())
		}
		s.holdAnswer(r.Context(), start)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, statusTrue)
		return nil
	}
	if !strings.EqualFold(as.User.Email, body.Email) {
		return errEmailMismatch
	}
	if as.User.EmailVerified {
		return errEmailAlreadyVerified
	}
	if err := s.enqueueVerificationEmail(r.Context(), s.db, r, &as.User, body.CallbackURL); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// answerFloor is how long the endpoints that must not reveal whether an email has an account take
// at least, whichever path they took; upstream's send-verification-email waits the same 500 ms.
// Mail leaves through the outbox, so what the floor hides is only the token's INSERT and commit:
// about a millisecond, but measurable.
const answerFloor = 500 * time.Millisecond

// holdAnswer waits until answerFloor has passed since start (tests may shorten it).
func (s *server) holdAnswer(ctx context.Context, start time.Time) {
	timer := time.NewTimer(time.Until(start.Add(s.cfg.Email.answerFloor)))
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// verifyEmailResult finishes verify-email: a plain 302 to callbackURL when one was given, else
// the JSON body.
func verifyEmailResult(w http.ResponseWriter, callbackURL string, body any) error {
	if callbackURL != "" {
		redirect(w, callbackURL)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *server) handleVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	token, callbackURL, err := s.linkQuery(r)
	if err != nil {
		return err
	}
	// fail is upstream's redirectOnError: back to callbackURL with ?error=CODE, else 401.
	fail := func(e *apiError) error {
		if callbackURL != "" {
			redirect(w, appendQuery(callbackURL, url.Values{"error": {e.Code}}))
			return nil
		}
		return apiErr(http.StatusUnauthorized, e.Code, e.Message)
	}
	claims, err := s.parseEmailToken(token)
	if err != nil {
		if isTokenError(err) {
			return fail(err.(*apiError))
		}
		return err
	}
	if claims.UpdateTo != "" {
		return s.verifyEmailChange(w, r, claims, callbackURL, fail)
	}
	u, err := s.userByEmail(r.Context(), s.db, claims.Email)
	if err != nil {
		return err
	}
	if u == nil {
		return fail(errUserNotFound)
	}
	if claims.UserID != "" && claims.UserID != u.ID {
		return fail(errTokenInvalid)
	}
	nullUser := map[string]any{"status": true, "user": nil}
	if u.EmailVerified {
		return verifyEmailResult(w, callbackURL, nullUser)
	}
	// Only the opener whose UPDATE flips the flag goes on to sign in: a link opened many times
	// at once must make one session, as a spent token would.
	flipped, err := s.markEmailVerified(r.Context(), s.db, u.ID, true, u)
	if err != nil {
		return err
	}
	if !flipped {
		return verifyEmailResult(w, callbackURL, nullUser)
	}
	if s.cfg.Email.AutoSignInAfterVerification {
		if err := s.signInVerified(w, r, u, claims.Email); err != nil {
			return err
		}
	}
	return verifyEmailResult(w, callbackURL, nullUser)
}

// signInVerified is AUTO_SIGN_IN_AFTER_VERIFICATION: a new session for u, unless the browser is
// already signed in as email, whose cached user then only needs emailVerified.
func (s *server) signInVerified(w http.ResponseWriter, r *http.Request, u *user, email string) error {
	current, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	if current != nil && current.User.Email == email {
		current.User = *u
		s.resetSessionCookie(w, r, current)
		return nil
	}
	sess, err := s.createSession(r.Context(), s.db, r, u.ID, false)
	if err != nil {
		return err
	}
	s.resetSessionCookie(w, r, &authSession{Session: sess, User: *u})
	return nil
}

// verifyEmailChange applies a change-email token (upstream verifyEmail): the confirmation from the
// old address sends the verification to the new one, whose link moves the account to the new
// address. The token is bound to the user and to the old address, so once the email has moved no
// copy of it works again.
func (s *server) verifyEmailChange(w http.ResponseWriter, r *http.Request, c *emailClaims, callbackURL string, fail func(*apiError) error) error {
	if c.UserID == "" {
		return fail(errTokenInvalid)
	}
	bound, err := s.userByID(r.Context(), s.db, c.UserID)
	if err != nil {
		return err
	}
	if bound == nil {
		return fail(errUserNotFound)
	}
	if strings.ToLower(bound.Email) != c.Email {
		return fail(errTokenInvalid)
	}
	current, err := s.loadSession(w, r, sessionOpts{})
	if err != nil {
		return err
	}
	if current != nil && current.User.ID != bound.ID {
		return fail(errInvalidUser)
	}
	newEmail := strings.ToLower(c.UpdateTo)
	if c.RequestType == changeEmailConfirmation {
		next := emailClaims{Email: c.Email, UpdateTo: newEmail, RequestType: changeEmailVerification, UserID: bound.ID}
		if err := s.enqueueEmailToken(r.Context(), s.db, r, newEmail, next, callbackURL); err != nil {
			return err
		}
		return verifyEmailResult(w, callbackURL, statusTrue)
	}
	// change-email-verification keeps emailVerified; a legacy token (no requestType) clears it and
	// sends a verification to the new address.
	legacy := c.RequestType != changeEmailVerification
	var updated user
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		return s.moveEmail(tx, r, bound.ID, c.Email, newEmail, legacy, callbackURL, &updated)
	})
	if err == errUserExistsUseAnother || err == errTokenInvalid {
		return fail(err.(*apiError))
	}
	if err != nil {
		return err
	}
	if current != nil {
		current.User = updated
		s.resetSessionCookie(w, r, current)
	}
	return verifyEmailResult(w, callbackURL, map[string]any{"status": true, "user": updated})
}

// moveEmail moves user userID from oldEmail to newEmail in tx, reading the row into u, and with
// legacy clears emailVerified and mails the new address its verification. Of links opened at
// once, one moves the account: the others find it no longer at the old address (errTokenInvalid).
func (s *server) moveEmail(tx pgx.Tx, r *http.Request, userID, oldEmail, newEmail string, legacy bool, callbackURL string, u *user) error {
	err := tx.QueryRow(r.Context(), `UPDATE "user" u SET email = $2, "emailVerified" = u."emailVerified" AND NOT $3, "updatedAt" = $4
		WHERE u.id = $1 AND lower(u.email) = $5 RETURNING `+s.userColumns, userID, newEmail, legacy, s.now(), oldEmail).Scan(u.scanTargets()...)
	if isUniqueViolation(err, "") {
		return errUserExistsUseAnother
	}
	if isNoRows(err) {
		return errTokenInvalid
	}
	if err != nil {
		return fmt.Errorf("change email: %w", err)
	}
	if err := s.userChanged(r.Context(), u); err != nil {
		return err
	}
	if legacy {
		// Upstream signs this one link with its default hour, whatever emailVerification.expiresIn says.
		c := emailClaims{Email: strings.ToLower(u.Email), UserID: u.ID}
		return s.enqueueEmailTokenFor(r.Context(), tx, r, u.Email, c, callbackURL, emailTokenExpiresIn)
	}
	return nil
}
