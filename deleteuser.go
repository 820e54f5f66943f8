package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delete user (upstream packages/better-auth/src/api/routes/update-user.ts, deleteUser,
// deleteUserCallback). The caller proves it is the owner with the password, a fresh session, or
// (DELETE_USER_VERIFICATION) a single-use link mailed to the account's address.

const deleteTokenExpiresIn = 24 * time.Hour

var (
	errDeleteUserDisabled = apiErr(404, "NOT_FOUND", "Not found")
	errDeleteInvalidToken = apiErr(404, "INVALID_TOKEN", "Invalid token")
	errFailedToGetUser    = apiErr(404, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	userDeleted           = deleteResult{true, "User deleted"}
)

// deleteResult keeps upstream's key order: {"success","message"}.
type deleteResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

func deleteIdentifier(token string) string { return "delete-account-" + token }

func (s *server) handleDeleteUser(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		CallbackURL string `json:"callbackURL"`
		Password    string `json:"password"`
		Token       string `json:"token"`
	}
	as, err := s.sessionRequest(w, r, &body, sensitiveSession)
	if err != nil {
		return err
	}
	if !s.cfg.Email.DeleteUser {
		return errNotFoundEmpty
	}
	if body.Password != "" {
		if err := s.verifyUserPassword(r.Context(), as.User.ID, body.Password, errCredentialAccountAbsent); err != nil {
			return err
		}
	}
	if body.Token != "" {
		if err := s.deleteUserWithToken(r.Context(), as.User.ID, body.Token); err != nil {
			return err
		}
		s.clearSessionCookies(w, r)
		writeJSON(w, http.StatusOK, userDeleted)
		return nil
	}
	if s.cfg.Email.DeleteUserVerification {
		token := randomString(32, lowerAlphaNum)
		link := s.baseURL(r) + "/delete-user/callback?token=" + token + "&callbackURL=" + encodeURIComponent(cmp.Or(body.CallbackURL, "/"))
		m := mail{Type: "delete-account", Email: as.User.Email, URL: link, Token: token}
		if err := s.enqueueTokenMail(r.Context(), deleteIdentifier(token), as.User.ID, s.cfg.Email.deleteTTL(), m); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, deleteResult{true, "Verification email sent"})
		return nil
	}
	if body.Password == "" && !s.isFresh(as) {
		return errSessionExpired
	}
	if err := inTx(r.Context(), s.db, func(tx pgx.Tx) error { return s.deleteUserRows(r.Context(), tx, as.User.ID) }); err != nil {
		return err
	}
	s.clearSessionCookies(w, r)
	writeJSON(w, http.StatusOK, userDeleted)
	return nil
}

// handleDeleteUserCallback is the mailed link. It needs the session of the account it deletes,
// so a forwarded or intercepted link alone deletes nothing.
func (s *server) handleDeleteUserCallback(w http.ResponseWriter, r *http.Request) error {
	token, callbackURL, err := s.linkQuery(r)
	if err != nil {
		return err
	}
	if !s.cfg.Email.DeleteUser {
		return errDeleteUserDisabled
	}
	as, err := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if err != nil {
		return err
	}
	if as == nil {
		return errFailedToGetUser
	}
	if err := s.deleteUserWithToken(r.Context(), as.User.ID, token); err != nil {
		return err
	}
	s.clearSessionCookies(w, r)
	if callbackURL != "" {
		redirect(w, callbackURL)
		return nil
	}
	writeJSON(w, http.StatusOK, userDeleted)
	return nil
}

// deleteUserWithToken spends a delete-account token issued to userID and deletes the user, in
// one transaction: of concurrent uses of one token, exactly one deletes. A token presented in
// another user's session is spent all the same (the consume commits), as upstream consumes it
// before it looks at whose it is (upstream deleteUser).
func (s *server) deleteUserWithToken(ctx context.Context, userID, token string) error {
	mismatch := false
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		v, err := s.consumeVerification(ctx, tx, deleteIdentifier(token))
		if err != nil {
			return err
		}
		if v == nil || v.Value != userID {
			mismatch = true
			return nil
		}
		return s.deleteUserRows(ctx, tx, userID)
	})
	if err == nil && mismatch {
		return errDeleteInvalidToken
	}
	return err
}

// deleteUserRows deletes the user; its sessions, accounts and plugin rows go with it (ON DELETE
// CASCADE), and the sessions are deleted explicitly as upstream does.
func (s *server) deleteUserRows(ctx context.Context, tx pgx.Tx, userID string) error {
	if _, err := s.endUserSessions(ctx, tx, userID, ""); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM "user" WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}
