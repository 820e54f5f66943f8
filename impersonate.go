package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Impersonation (upstream: packages/better-auth/src/plugins/admin/routes.ts, impersonateUser and
// stopImpersonating). The admin's own session is kept aside in the signed admin_session cookie as
// "<admin session token>:<dont_remember value or empty>", exactly as upstream writes it, so an
// impersonation started on either server can be stopped on the other. The impersonation session
// carries impersonatedBy and lasts ADMIN_IMPERSONATION_SESSION_DURATION.

const cookieAdminSession = "admin_session"

var (
	errNotImpersonating     = apiErr(http.StatusBadRequest, "", "You are not impersonating anyone")
	errAdminNotFound        = apiErr(http.StatusInternalServerError, "", "Failed to find user")
	errAdminSessionNotFound = apiErr(http.StatusInternalServerError, "", "Failed to find admin session")
)

func (s *server) handleAdminImpersonateUser(w http.ResponseWriter, r *http.Request) error {
	userID, as, err := s.adminUserRequest(w, r, perm("user", "impersonate"), errNotAllowedImpersonate)
	if err != nil {
		return err
	}
	// Ours, not upstream's (COMPATIBILITY.md, admin-stricter-with-custom-roles): from an
	// impersonation session no one impersonates further, or admin_session would lose the real
	// admin. Only a role holding impersonate-admins gets here; with the default roles the
	// impersonated user lacks the permission and both servers answer this 403.
	if as.Session.ImpersonatedBy != nil {
		return errNotAllowedImpersonate
	}
	target, err := s.adminTarget(r.Context(), s.db, userID)
	if err != nil {
		return err
	}
	if s.cfg.Admin.isAdmin(target) && !s.cfg.Admin.can(as.User.ID, as.User.Role, perm("user", "impersonate-admins")) {
		return errCannotImpersonateAdmin
	}
	sess, err := s.createImpersonationSession(r.Context(), r, target.ID, as.User.ID)
	if err != nil {
		return err
	}
	dontRemember, _ := s.signedCookie(r, cookieDontRemember)
	s.clearSessionCookies(w, r)
	s.setSignedCookie(w, cookieAdminSession, as.Session.Token+":"+dontRemember, cookieOpts{maxAge: int(s.cfg.SessionExpiresIn.Seconds())})
	s.setSessionCookie(w, r, &authSession{Session: sess, User: *target}, true)
	s.expiriesFirst(w, cookieSessionToken, cookieDontRemember, cookieSessionData)
	writeJSON(w, http.StatusOK, struct {
		Session session `json:"session"`
		User    *user   `json:"user"`
	}{sess, target})
	return nil
}

// createImpersonationSession opens a session for userID on behalf of adminID. It goes through
// createSession, so a banned user cannot be impersonated either, as upstream's hook refuses it.
func (s *server) createImpersonationSession(ctx context.Context, r *http.Request, userID, adminID string) (session, error) {
	return s.createSession(ctx, s.db, r, userID, true, func(sess *session) {
		sess.ImpersonatedBy = &adminID
		sess.ExpiresAt = jsTime(s.now().Add(s.cfg.Admin.impersonationDuration()))
	})
}

func (s *server) handleAdminStopImpersonating(w http.ResponseWriter, r *http.Request) error {
	var body struct{}
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	as, err := s.requireSession(w, r, anySession)
	if errors.Is(err, errUnauthorized) {
		return errUnauthorizedEmpty
	}
	if err != nil {
		return err
	}
	if as.Session.ImpersonatedBy == nil {
		return errNotImpersonating
	}
	admin, adminDontRemember, err := s.adminSessionOf(r, *as.Session.ImpersonatedBy)
	if err != nil {
		return err
	}
	if _, err := s.endSession(r.Context(), s.db, as.Session.Token); err != nil {
		return err
	}
	s.revocations.record(as.Session.ID)
	s.setSessionCookie(w, r, admin, adminDontRemember)
	s.expireCookie(w, cookieAdminSession)
	writeJSON(w, http.StatusOK, admin)
	return nil
}

// adminSessionOf reads the admin session kept in admin_session and checks it belongs to the
// admin who started the impersonation; anything else is upstream's 500s.
// dontRemember is the admin's remember-me choice, kept with the token.
func (s *server) adminSessionOf(r *http.Request, adminID string) (admin *authSession, dontRemember bool, err error) {
	if u, err := s.userByID(r.Context(), s.db, adminID); err != nil || u == nil {
		if err == nil {
			err = errAdminNotFound
		}
		return nil, false, err
	}
	kept, ok := s.signedCookie(r, cookieAdminSession)
	if !ok {
		return nil, false, errAdminSessionNotFound
	}
	token, remember, _ := strings.Cut(kept, ":")
	admin, err = s.findSession(r.Context(), token)
	if err != nil {
		return nil, false, err
	}
	if admin == nil || admin.Session.UserID != adminID {
		return nil, false, errAdminSessionNotFound
	}
	return admin, remember != "", nil
}

// expiriesFirst puts back the expiry upstream sends before each of these cookies' new value:
// impersonate-user deletes the admin's session cookies and then sets the user's, and both lines
// reach the browser, which applies them in order. setCookie keeps only the last line of a name.
func (s *server) expiriesFirst(w http.ResponseWriter, names ...string) {
	h := w.Header()
	var out []string
	for _, line := range h.Values("Set-Cookie") {
		for _, name := range names {
			if full := s.cookieName(name); strings.HasPrefix(line, full+"=") && !strings.HasPrefix(line, full+"=;") {
				out = append(out, s.cookieLine(full, "", cookieOpts{}))
			}
		}
		out = append(out, line)
	}
	h["Set-Cookie"] = out
}
