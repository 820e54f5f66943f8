package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestImpersonationKeepsTheAdminSessionAsideAndStopRestoresIt walks impersonate → act as the
// user → stop, checking the cookies upstream sets (admin_session "<token>:<dont_remember>",
// signed like session_token; the impersonation session as a browser-session cookie), the
// session's impersonatedBy and expiry, and that the user's own list hides the session.
func TestImpersonationKeepsTheAdminSessionAsideAndStopRestoresIt(t *testing.T) {
	t.Parallel()
	ts, admin, adminID := newAdminServer(t)
	adminToken := admin.cookieToken()
	target, userID := ts.newUser(t, "target@example.com")
	start := ts.clock.now()

	resp := admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": userID}).wantStatus(t, http.StatusOK)
	var body struct {
		Session session
		User    user
	}
	resp.decode(t, &body)
	if body.User.ID != userID || body.Session.UserID != userID || deref(body.Session.ImpersonatedBy) != adminID {
		t.Fatalf("impersonate-user = %s", resp.Body)
	}
	if d := body.Session.ExpiresAt.Time().Sub(start); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
		t.Fatalf("impersonation lasts %v, want an hour", d)
	}
	if line := resp.setCookie("better-auth.admin_session"); !strings.Contains(line, "Max-Age=604800; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("admin_session cookie = %q", line)
	}
	if got := admin.signedCookieValue("better-auth.admin_session"); got != adminToken+":" {
		t.Fatalf("admin_session holds %q, want the admin's token and an empty remember-me", got)
	}
	var line string // the last session_token line: upstream's expiry of the admin's comes first
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "better-auth.session_token=") {
			line = l
		}
	}
	if strings.Contains(line, "Max-Age") || admin.signedCookieValue("better-auth.dont_remember") != "true" {
		t.Fatalf("impersonation session cookie = %q, want a browser-session cookie with dont_remember", line)
	}
	if admin.sessionUser(t) != "target@example.com" {
		t.Fatal("the admin does not act as the user")
	}
	var own []session
	target.get("/api/auth/list-sessions").wantStatus(t, http.StatusOK).decode(t, &own)
	if len(own) != 1 || own[0].ImpersonatedBy != nil {
		t.Fatalf("the user's list-sessions shows %d sessions", len(own))
	}
	if n := len(mustSessions(t, ts, userID)); n != 2 {
		t.Fatalf("%d sessions of the user, want theirs and the impersonation", n)
	}
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": adminID}).wantError(t, http.StatusForbidden, "YOU_ARE_NOT_ALLOWED_TO_IMPERSONATE_USERS")

	resp = admin.post("/api/auth/admin/stop-impersonating", nil).wantStatus(t, http.StatusOK)
	var back authSession
	resp.decode(t, &back)
	if back.User.ID != adminID || back.Session.Token != adminToken || !isExpiry(resp.setCookie("better-auth.admin_session")) {
		t.Fatalf("stop-impersonating = %s %v", resp.Body, resp.Header.Values("Set-Cookie"))
	}
	if admin.sessionUser(t) != "admin@example.com" || admin.cookieToken() != adminToken {
		t.Fatal("the admin's own session is not back")
	}
	if n := len(mustSessions(t, ts, userID)); n != 1 {
		t.Fatalf("impersonation session not deleted: %d sessions", n)
	}
	admin.post("/api/auth/admin/stop-impersonating", nil).wantStatus(t, http.StatusBadRequest)
}

// TestImpersonationSessionNeverOutlivesItsDuration: a client that keeps only session_token (a
// bearer client, or one that drops dont_remember) reads the impersonation session again and
// again, past updateAge, and its expiry stays the admin's hour; at the hour it is gone.
func TestImpersonationSessionNeverOutlivesItsDuration(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	_, userID := ts.newUser(t, "target@example.com")
	resp := admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": userID}).wantStatus(t, http.StatusOK)
	var body struct{ Session session }
	resp.decode(t, &body)
	expires := body.Session.ExpiresAt.Time()
	c := ts.client(t)
	c.cookies["better-auth.session_token"] = admin.cookies["better-auth.session_token"]
	for _, step := range []time.Duration{0, 30 * time.Minute, 29 * time.Minute} {
		ts.clock.advance(step)
		var got struct{ Session session }
		c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &got)
		if !got.Session.ExpiresAt.Time().Equal(expires) {
			t.Fatalf("after %v the impersonation expires at %v, want %v", step, got.Session.ExpiresAt.Time(), expires)
		}
	}
	if stored := mustSessions(t, ts, userID); len(stored) != 2 || !slices.ContainsFunc(stored, func(s session) bool { return s.ExpiresAt.Time().Equal(expires) }) {
		t.Fatalf("stored sessions %+v, want the impersonation's expiry unchanged", stored)
	}
	ts.clock.advance(2 * time.Minute)
	if c.get("/api/auth/get-session").wantStatus(t, http.StatusOK); c.signedIn() {
		t.Fatal("the impersonation outlived its hour")
	}
}

// TestImpersonationRefusals ensures admins cannot be impersonated without impersonate-admins, a
// banned user cannot be impersonated, and stop needs the kept admin session.
func TestImpersonationRefusals(t *testing.T) {
	t.Parallel()
	ts, admin, _ := newAdminServer(t)
	_, otherAdmin := ts.newUser(t, "other-admin@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'user,admin' WHERE id = $1`, otherAdmin)
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": otherAdmin}).wantError(t, http.StatusForbidden, "YOU_CANNOT_IMPERSONATE_ADMINS")
	_, bannedID := ts.newUser(t, "banned@example.com")
	admin.post("/api/auth/admin/ban-user", map[string]any{"userId": bannedID}).wantStatus(t, http.StatusOK)
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": bannedID}).wantError(t, http.StatusForbidden, "BANNED_USER")
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": "nobody"}).wantError(t, http.StatusNotFound, "USER_NOT_FOUND")
	if admin.sessionUser(t) != "admin@example.com" {
		t.Fatal("a refused impersonation changed the admin's session")
	}

	_, userID := ts.newUser(t, "target@example.com")
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": userID}).wantStatus(t, http.StatusOK)
	delete(admin.cookies, "better-auth.admin_session")
	resp := admin.post("/api/auth/admin/stop-impersonating", nil)
	resp.wantStatus(t, http.StatusInternalServerError)
	if !strings.Contains(string(resp.Body), "Failed to find admin session") {
		t.Fatalf("stop without admin_session = %s", resp.Body)
	}
}

// TestImpersonationAdminsWithPermissionAndDuration ensures a role holding impersonate-admins may
// impersonate an admin, and that the session ends after ADMIN_IMPERSONATION_SESSION_DURATION.
func TestImpersonationAdminsWithPermissionAndDuration(t *testing.T) {
	t.Parallel()
	superAdmin := statement{"user": append([]string{"impersonate-admins"}, defaultAdminRoleSet["admin"]["user"]...), "session": defaultAdminRoleSet["admin"]["session"]}
	ts, admin, _ := newAdminServer(t, func(c *config) {
		c.Admin.Roles = roleSet{"admin": superAdmin, "user": defaultAdminRoleSet["user"]}
		c.Admin.ImpersonationDuration = 10 * time.Minute
	})
	_, otherAdmin := ts.newUser(t, "other-admin@example.com")
	ts.exec(t, `UPDATE "user" SET role = 'admin' WHERE id = $1`, otherAdmin)
	admin.post("/api/auth/admin/impersonate-user", map[string]any{"userId": otherAdmin}).wantStatus(t, http.StatusOK)
	if admin.sessionUser(t) != "other-admin@example.com" {
		t.Fatal("not acting as the other admin")
	}
	ts.clock.advance(11 * time.Minute)
	if admin.sessionUser(t) != "" {
		t.Fatal("the impersonation outlived its duration")
	}
}
