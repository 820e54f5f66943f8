package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Change email (upstream packages/better-auth/src/api/routes/update-user.ts, changeEmail). The new
// address takes effect only from a link mailed to it (and, for a verified user with
// CHANGE_EMAIL_CONFIRMATION on, after a link mailed to the old address), in GET /verify-email. A
// taken address gets the same answer and no mail, so the endpoint does not tell which addresses
// have accounts.

var (
	errChangeEmailDisabled = apiErr(400, "CHANGE_EMAIL_DISABLED", "Change email is disabled")
	errEmailIsTheSame      = apiErr(400, "", "Email is the same")
)

func (s *server) handleChangeEmail(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewEmail    string `json:"newEmail" required:"true"`
		CallbackURL string `json:"callbackURL"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if !validEmail(body.NewEmail) {
		return validationError("[body.newEmail] Invalid email address")
	}
	as, err := s.requireSession(w, r, sensitiveSession)
	if err != nil {
		return err
	}
	if !s.cfg.Email.ChangeEmail {
		return errChangeEmailDisabled
	}
	newEmail := strings.ToLower(body.NewEmail)
	if newEmail == as.User.Email {
		return errEmailIsTheSame
	}
	start := time.Now()
	if err := s.changeEmail(w, r, as, newEmail, body.CallbackURL); err != nil {
		return err
	}
	s.holdAnswer(r.Context(), start)
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// changeEmail takes the step the settings call for: nothing for a taken address (the same answer
// and no mail), the change itself for an unverified user where allowed, else a mail with the
// link that confirms it (to the old address with CHANGE_EMAIL_CONFIRMATION, else to the new).
func (s *server) changeEmail(w http.ResponseWriter, r *http.Request, as *authSession, newEmail, callbackURL string) error {
	taken, err := s.userByEmail(r.Context(), s.db, newEmail)
	if err != nil || taken != nil {
		return err
	}
	u := &as.User
	switch {
	case !u.EmailVerified && s.cfg.Email.ChangeEmailWithoutVerification:
		// An unverified address proves nothing, so it may change at once; the new one still
		// has to be verified.
		err = inTx(r.Context(), s.db, func(tx pgx.Tx) error { return s.setUnverifiedEmail(tx, r, u, newEmail, callbackURL) })
		if err == errUserExistsUseAnother {
			// Taken between our lookup and the update: the same answer as a taken address.
			return nil
		}
		if err != nil {
			return err
		}
		s.resetSessionCookie(w, r, as)
		return nil
	case u.EmailVerified && s.cfg.Email.ChangeEmailConfirmation:
		claims := emailClaims{Email: u.Email, UpdateTo: newEmail, RequestType: changeEmailConfirmation, UserID: u.ID}
		token, err := s.signEmailToken(claims, s.cfg.Email.verificationTTL())
		if err != nil {
			return err
		}
		m := mail{Type: "change-email", Email: u.Email, NewEmail: newEmail, URL: s.verifyEmailURL(r, token, callbackURL), Token: token}
		return s.enqueueMail(r.Context(), s.db, m)
	default:
		claims := emailClaims{Email: u.Email, UpdateTo: newEmail, RequestType: changeEmailVerification, UserID: u.ID}
		return s.enqueueEmailToken(r.Context(), s.db, r, newEmail, claims, callbackURL)
	}
}

// setUnverifiedEmail changes u's email to newEmail and mails the new address its verification
// link, in tx. errUserExistsUseAnother: the address was taken meanwhile.
func (s *server) setUnverifiedEmail(tx pgx.Tx, r *http.Request, u *user, newEmail, callbackURL string) error {
	err := tx.QueryRow(r.Context(), `UPDATE "user" u SET email = $2, "updatedAt" = $3 WHERE u.id = $1
		RETURNING `+s.userColumns, u.ID, newEmail, s.now()).Scan(u.scanTargets()...)
	if isUniqueViolation(err, "") {
		return errUserExistsUseAnother
	}
	if err != nil {
		return fmt.Errorf("change email: %w", err)
	}
	if err := s.userChanged(r.Context(), u); err != nil {
		return err
	}
	return s.enqueueVerificationEmail(r.Context(), tx, r, u, callbackURL)
}
