package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Password reset (upstream packages/better-auth/src/api/routes/password.ts): a single-use token in
// the verification table, mailed as a link that passes through GET /reset-password/:token to the
// app's reset page.

// resetPasswordExpiresIn is upstream's default lifetime of a reset link.
const resetPasswordExpiresIn = time.Hour

// resetRequested is the one answer to every reset request, in upstream's key order.
var resetRequested = struct {
	Status  bool   `json:"status"`
	Message string `json:"message"`
}{true, "If this email exists in our system, check your email for the reset link"}

func resetIdentifier(token string) string { return "reset-password:" + token }

func (s *server) handleRequestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email      string `json:"email" required:"true"`
		RedirectTo string `json:"redirectTo"`
	}
	if err := s.decodeWithEmail(r, &body, jsonOnly, &body.Email); err != nil {
		return err
	}
	start := time.Now()
	u, err := s.userByEmail(r.Context(), s.db, body.Email)
	if err != nil {
		return err
	}
	if u == nil {
		s.holdAnswer(r.Context(), start)
		writeJSON(w, http.StatusOK, resetRequested)
		return nil
	}
	token := generateID(24)
	link := s.baseURL(r) + "/reset-password/" + token + "?callbackURL="
	if body.RedirectTo != "" {
		link += encodeURIComponent(body.RedirectTo)
	}
	m := mail{Type: "reset-password", Email: u.Email, URL: link, Token: token}
	if err := s.enqueueTokenMail(r.Context(), resetIdentifier(token), u.ID, s.cfg.Email.resetTTL(), m); err != nil {
		return err
	}
	s.holdAnswer(r.Context(), start)
	writeJSON(w, http.StatusOK, resetRequested)
	return nil
}

// handleResetPasswordCallback is the mailed link: it checks the token without spending it and
// sends the browser to the app's page with ?token= or ?error=INVALID_TOKEN.
func (s *server) handleResetPasswordCallback(w http.ResponseWriter, r *http.Request) error {
	callbackURL, err := queryString(r, "callbackURL", true)
	if err != nil {
		return err
	}
	if err := s.checkQueryURL(r, callbackURL); err != nil {
		return err
	}
	token := r.PathValue("token")
	if callbackURL == "" {
		redirect(w, s.baseURL(r)+"/error?error=INVALID_TOKEN")
		return nil
	}
	v, err := s.findVerification(r.Context(), s.db, resetIdentifier(token))
	if err != nil {
		return err
	}
	if v == nil || v.ExpiresAt.Before(s.now()) {
		redirect(w, s.resolveWithParam(r, callbackURL, "error", "INVALID_TOKEN"))
		return nil
	}
	redirect(w, s.resolveWithParam(r, callbackURL, "token", token))
	return nil
}

// resolveWithParam resolves target against the base URL and sets one query parameter, as
// upstream's new URL(target, baseURL).searchParams.set(key, value): the first occurrence is
// replaced, later ones dropped, the order of the others kept.
func (s *server) resolveWithParam(r *http.Request, target, key, value string) string {
	base, _ := url.Parse(s.baseURL(r))
	u, err := base.Parse(target)
	if err != nil {
		u = base // unreachable: target passed isTrustedURL, which parses it
	}
	var pairs []string
	set := false
	for pair := range strings.SplitSeq(u.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, _, _ := strings.Cut(pair, "=")
		if name, err := url.QueryUnescape(k); err == nil && name == key {
			if set {
				continue
			}
			pair, set = url.QueryEscape(key)+"="+url.QueryEscape(value), true
		}
		pairs = append(pairs, pair)
	}
	if !set {
		pairs = append(pairs, url.QueryEscape(key)+"="+url.QueryEscape(value))
	}
	u.RawQuery = strings.Join(pairs, "&")
	return u.String()
}

func (s *server) handleResetPassword(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		NewPassword string `json:"newPassword" required:"true"`
		Token       string `json:"token"`
	}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	queryToken, err := queryString(r, "token", false)
	if err != nil {
		return err
	}
	token := body.Token
	if token == "" {
		token = queryToken
	}
	if token == "" {
		return errInvalidToken
	}
	if err := s.checkNewPassword(body.NewPassword); err != nil {
		return err
	}
	// A cheap look first, so that a bad token costs no scrypt run.
	v, err := s.findVerification(r.Context(), s.db, resetIdentifier(token))
	if err != nil {
		return err
	}
	if v == nil || v.ExpiresAt.Before(s.now()) {
		return errInvalidToken
	}
	u, err := s.userByID(r.Context(), s.db, v.Value)
	if err != nil {
		return err
	}
	if u == nil {
		return errUserNotFound
	}
	hash, err := s.hashPassword(r.Context(), body.NewPassword)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		// The consume is the gate: of concurrent resets with one token, exactly one gets the row.
		v, err := s.consumeVerification(r.Context(), tx, resetIdentifier(token))
		if err != nil {
			return err
		}
		if v == nil || v.Value != u.ID {
			return errInvalidToken
		}
		return s.resetCredentialPassword(r.Context(), tx, u.ID, hash)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// resetCredentialPassword is upstream's resetCredentialPassword, inside the caller's transaction
// that spent the token: sessions revoked when REVOKE_SESSIONS_ON_PASSWORD_RESET is on, and the
// credential password set, the account created if the user had none (a social-only user).
func (s *server) resetCredentialPassword(ctx context.Context, tx pgx.Tx, userID, hash string) error {
	if s.cfg.Email.RevokeSessionsOnPasswordReset {
		if _, err := s.endUserSessions(ctx, tx, userID, ""); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
	}
	return s.setCredentialPassword(ctx, tx, userID, hash)
}

// setCredentialPassword sets the user's credential password, creating the credential account
// when the user has none (a social-only user).
func (s *server) setCredentialPassword(ctx context.Context, tx pgx.Tx, userID, hash string) error {
	tag, err := tx.Exec(ctx, `UPDATE account SET password = $2, "updatedAt" = $3
		WHERE "userId" = $1 AND "providerId" = 'credential' AND "accountId" = $1`, userID, hash, s.now())
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return s.insertCredentialAccount(ctx, tx, userID, hash)
	}
	return nil
}
