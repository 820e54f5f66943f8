package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
)

// Email and password (upstream packages/better-auth/src/api/routes/sign-up.ts,
// packages/better-auth/src/api/routes/sign-in.ts,
// packages/better-auth/src/api/routes/update-user.ts changePassword,
// packages/better-auth/src/api/routes/verify-password.ts). The password lives in the user's
// "credential" account row (providerId 'credential', accountId = userId), as upstream keeps it.

var (
	errInvalidEmailAddress = validationError("[body.email] Invalid email address")
	errEmailSignUpDisabled = apiErr(400, "EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled")
)

// decodeWithEmail decodes body and checks its email field (email points into body), refusing
// a malformed one as upstream's schema does.
func (s *server) decodeWithEmail(r *http.Request, body any, forms bodyForms, email *string) error {
	if err := s.decode(r, body, forms); err != nil {
		return err
	}
	if !validEmail(*email) {
		return errInvalidEmailAddress
	}
	return nil
}

// signUpBody is sign-up/email's body; Rest holds the username plugin's and the additional
// fields' keys (fields.go) and any other key (userInput).
type signUpBody struct {
	Name        string                     `json:"name" required:"true"`
	Email       string                     `json:"email" required:"true"`
	Password    string                     `json:"password" required:"true"`
	Image       *string                    `json:"image"`
	CallbackURL string                     `json:"callbackURL"`
	RememberMe  *bool                      `json:"rememberMe"`
	Rest        map[string]json.RawMessage `json:"-" unknown:"keep"`
}

// decodeSignUp reads and checks a sign-up in upstream's order: the body, the plugins' hooks (the
// username's), the route's checks, then the additional fields and other keys (parseUserInput).
func (s *server) decodeSignUp(r *http.Request, body *signUpBody) (fieldWrite, error) {
	if err := s.decodeWithEmail(r, body, formAllowed, &body.Email); err != nil {
		return fieldWrite{}, err
	}
	if err := s.usernameInput(r.Context(), body.Rest, ""); err != nil {
		return fieldWrite{}, err
	}
	if s.cfg.DisableSignUp {
		return fieldWrite{}, errEmailSignUpDisabled
	}
	if err := s.checkNewPassword(body.Password); err != nil {
		return fieldWrite{}, err
	}
	extra, err := s.cfg.userFields().parseInput(body.Rest, true)
	if err != nil {
		return fieldWrite{}, err
	}
	return extra, s.userInput(r, body.Rest, true)
}

func (s *server) handleSignUpEmail(w http.ResponseWriter, r *http.Request) error {
	var body signUpBody
	extra, err := s.decodeSignUp(r, &body)
	if err != nil {
		return err
	}
	// Without a session at sign-up (email verification required, or autoSignIn off) upstream
	// answers token null, and an existing email gets the same answer as a new one.
	noSession := s.cfg.Email.RequireVerification || !s.cfg.AutoSignIn
	existing, err := s.userByEmail(r.Context(), s.db, body.Email)
	if err != nil {
		return err
	}
	if existing != nil {
		if noSession {
			return s.writeSyntheticSignUp(w, r, body.Name, body.Email, body.Password, body.Image, extra)
		}
		return errUserExistsUseAnother
	}
	hash, err := s.hashPassword(r.Context(), body.Password)
	if err != nil {
		return err
	}
	dontRemember := body.RememberMe != nil && !*body.RememberMe
	var as authSession
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		if as.User, err = s.insertUserWith(r.Context(), tx, "", body.Name, body.Email, false, body.Image, extra); err != nil {
			return err
		}
		if err := s.insertCredentialAccount(r.Context(), tx, as.User.ID, hash); err != nil {
			return err
		}
		if s.cfg.Email.SendOnSignUp {
			if err := s.enqueueVerificationEmail(r.Context(), tx, r, &as.User, body.CallbackURL); err != nil {
				return err
			}
		}
		if noSession {
			return nil // no session until the email is verified, or ever with autoSignIn off
		}
		as.Session, err = s.createSession(r.Context(), tx, r, as.User.ID, dontRemember)
		return err
	})
	if errors.Is(err, errUserExistsUseAnother) && noSession {
		return s.writeSyntheticSignUp(w, r, body.Name, body.Email, body.Password, body.Image, extra)
	}
	if err != nil {
		return err
	}
	if noSession {
		writeJSON(w, http.StatusOK, map[string]any{"token": nil, "user": as.User})
		return nil
	}
	s.setSessionCookie(w, r, &as, dontRemember)
	writeJSON(w, http.StatusOK, map[string]any{"token": as.Session.Token, "user": as.User})
	return nil
}

func (s *server) handleSignInEmail(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email       string `json:"email" required:"true"`
		Password    string `json:"password" required:"true"`
		CallbackURL string `json:"callbackURL"`
		RememberMe  *bool  `json:"rememberMe"`
	}
	if err := s.decode(r, &body, formAllowed); err != nil {
		return err
	}
	if !validEmail(body.Email) {
		return errInvalidEmail
	}
	if jsLength(body.Password) > s.cfg.MaxPasswordLength {
		return errPasswordTooLong
	}
	u, hash, err := s.userWithPassword(r.Context(), body.Email)
	if err != nil {
		return err
	}
	return s.passwordSignIn(w, r, u, hash, passwordSignInRequest{
		Password: body.Password, CallbackURL: body.CallbackURL, RememberMe: body.RememberMe,
	}, errInvalidEmailOrPassword)
}

// passwordSignInRequest is what email and username sign-in share of their bodies.
type passwordSignInRequest struct {
	Password    string
	CallbackURL string
	RememberMe  *bool
}

// passwordSignIn completes a sign-in by password once the user is looked up (u nil when there is
// none, hash "" without a credential account), for sign-in/email and sign-in/username alike: the
// password check (with a hash anyway for an unknown user, so that it costs what a wrong password
// costs), verification required, the session (createSession holds bans), the cookie, the second
// factor, the answer. invalid is the route's "wrong credentials" error.
func (s *server) passwordSignIn(w http.ResponseWriter, r *http.Request, u *user, hash string, in passwordSignInRequest, invalid error) error {
	if u == nil || hash == "" {
		if _, err := s.hashPassword(r.Context(), in.Password); err != nil {
			return err
		}
		return invalid
	}
	ok, err := s.checkPassword(r.Context(), hash, in.Password)
	if err != nil {
		return err
	}
	if !ok {
		return invalid
	}
	if s.cfg.Email.RequireVerification && !u.EmailVerified {
		return s.refuseUnverified(r, u, in.CallbackURL)
	}
	dontRemember := in.RememberMe != nil && !*in.RememberMe
	sess, err := s.createSession(r.Context(), s.db, r, u.ID, dontRemember)
	if err != nil {
		return err
	}
	as := &authSession{Session: sess, User: *u}
	s.setSessionCookie(w, r, as, dontRemember)
	resp := map[string]any{"redirect": in.CallbackURL != "", "token": sess.Token, "user": u}
	if in.CallbackURL != "" {
		resp["url"] = in.CallbackURL
		w.Header().Set("Location", in.CallbackURL)
	}
	// A second factor replaces the session with a challenge, unless this device is trusted.
	if challenged, err := s.twoFactorAfterSignIn(w, r, as); challenged || err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// userWithPassword finds a user by email with its credential password hash ("" when it has none).
func (s *server) userWithPassword(ctx context.Context, email string) (*user, string, error) {
	u, err := s.userByEmail(ctx, s.db, email)
	if err != nil || u == nil {
		return nil, "", err
	}
	hash, err := s.credentialPassword(ctx, s.db, u.ID)
	return u, hash, err
}

// credentialPassword returns the user's stored password hash, or "" without a credential account.
func (s *server) credentialPassword(ctx context.Context, q querier, userID string) (string, error) {
	var hash *string
	err := q.QueryRow(ctx, `SELECT password FROM account
		WHERE "userId" = $1 AND "providerId" = 'credential' AND "accountId" = $1`, userID).Scan(&hash)
	if isNoRows(err) || hash == nil {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find credential account: %w", err)
	}
	return *hash, nil
}

func (s *server) insertCredentialAccount(ctx context.Context, q querier, userID, hash string) error {
	now := s.now()
	_, err := q.Exec(ctx, `INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
		VALUES ($1, $2, 'credential', $2, $3, $4, $4)`, generateID(32), userID, hash, now)
	if err != nil {
		return fmt.Errorf("create credential account: %w", err)
	}
	return nil
}

// verifyUserPassword checks password against the user's credential account: 400
// CREDENTIAL_ACCOUNT_NOT_FOUND without one (when missingErr is set), 400 INVALID_PASSWORD on a
// mismatch.
func (s *server) verifyUserPassword(ctx context.Context, userID, password string, missingErr error) error {
	if jsLength(password) > s.cfg.MaxPasswordLength {
		return errPasswordTooLong
	}
	hash, err := s.credentialPassword(ctx, s.db, userID)
	if err != nil {
		return err
	}
	if hash == "" {
		return missingErr
	}
	ok, err := s.checkPassword(ctx, hash, password)
	if err != nil {
		return err
	}
	if !ok {
		return errInvalidPassword
	}
	return nil
}

func (s *server) handleChangePassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewPassword         string `json:"newPassword" required:"true"`
		CurrentPassword     string `json:"currentPassword" required:"true"`
		RevokeOtherSessions bool   `json:"revokeOtherSessions"`
	}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if err := s.checkNewPassword(body.NewPassword); err != nil {
		return err
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, body.CurrentPassword, errCredentialAccountAbsent); err != nil {
		return err
	}
	hash, err := s.hashPassword(r.Context(), body.NewPassword)
	if err != nil {
		return err
	}
	var newSession *authSession
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(r.Context(), `UPDATE account SET password = $2, "updatedAt" = $3
			WHERE "userId" = $1 AND "providerId" = 'credential' AND "accountId" = $1`, as.User.ID, hash, s.now()); err != nil {
			return fmt.Errorf("update password: %w", err)
		}
		if !body.RevokeOtherSessions {
			return nil
		}
		if _, err := s.endUserSessions(r.Context(), tx, as.User.ID, ""); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		sess, err := s.createSession(r.Context(), tx, r, as.User.ID, false)
		newSession = &authSession{Session: sess, User: as.User}
		return err
	})
	if err != nil {
		return err
	}
	var token *string
	if newSession != nil {
		s.resetSessionCookie(w, r, newSession)
		token = &newSession.Session.Token
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": token, "user": as.User})
	return nil
}

func (s *server) handleVerifyPassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Password string `json:"password" required:"true"`
	}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if err := s.verifyUserPassword(r.Context(), as.User.ID, body.Password, errInvalidPassword); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}
