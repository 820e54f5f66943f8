package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

func userCount(t *testing.T, ts *testServer, email string) int {
	t.Helper()
	var n int
	if err := ts.db.QueryRow(context.Background(), `SELECT count(*) FROM "user" WHERE email = $1`, email).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeleteUserNeedsProof ensures delete-user deletes with the right password or a fresh
// session, and refuses a wrong password or a stale session without one.
func TestDeleteUserNeedsProof(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t)
	ctx := context.Background()

	c := ts.client(t)
	c.signUp("pw@example.com", "password123", "P")
	c.post("/api/auth/delete-user", map[string]any{"password": "wrong-password"}).wantError(t, http.StatusBadRequest, "INVALID_PASSWORD")
	// A day-old session is not fresh: only the password will do.
	if _, err := ts.db.Exec(ctx, `UPDATE session SET "createdAt" = now() - interval '2 days'`); err != nil {
		t.Fatal(err)
	}
	c.post("/api/auth/delete-user", nil).wantError(t, http.StatusBadRequest, "SESSION_EXPIRED")
	resp := c.post("/api/auth/delete-user", map[string]any{"password": "password123"}).wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"success":true,"message":"User deleted"}` || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("delete answered %s %v", resp.Body, resp.Header)
	}
	if userCount(t, ts, "pw@example.com") != 0 || ts.rowCount(t, "session") != 0 || ts.rowCount(t, "account") != 0 {
		t.Fatal("user rows left")
	}

	fresh := ts.client(t)
	fresh.signUp("fresh@example.com", "password123", "F")
	fresh.post("/api/auth/delete-user", nil).wantStatus(t, http.StatusOK)
	if userCount(t, ts, "fresh@example.com") != 0 {
		t.Fatal("fresh session did not delete")
	}
	fresh.post("/api/auth/delete-user", nil).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
}

// TestDeleteUserDisabled ensures DELETE_USER_ENABLED=false answers as upstream: an empty 404 on
// the endpoint and 404 NOT_FOUND on the link.
func TestDeleteUserDisabled(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t, func(c *config) { c.Email.DeleteUser = false })
	c := ts.client(t)
	c.signUp("keep@example.com", "password123", "K")
	resp := c.post("/api/auth/delete-user", map[string]any{"password": "password123"}).wantStatus(t, http.StatusNotFound)
	if len(resp.Body) != 0 {
		t.Fatalf("body = %s", resp.Body)
	}
	c.get("/api/auth/delete-user/callback?token=x").wantError(t, http.StatusNotFound, "NOT_FOUND")
	if userCount(t, ts, "keep@example.com") != 1 {
		t.Fatal("user deleted")
	}
}

// TestDeleteUserByMailedLink ensures DELETE_USER_VERIFICATION mails a link that deletes only from
// the owner's session, once; opened in another user's session it is spent, as upstream's.
func TestDeleteUserByMailedLink(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.DeleteUserVerification = true })
	c := ts.client(t)
	c.signUp("bye@example.com", "password123", "B")
	resp := c.post("/api/auth/delete-user", map[string]any{"callbackURL": "/goodbye"}).wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"success":true,"message":"Verification email sent"}` {
		t.Fatalf("body = %s", resp.Body)
	}
	link := smtpd.nextMail(t, "bye@example.com").link(t)
	u, err := url.Parse(link)
	if err != nil || u.Path != "/api/auth/delete-user/callback" || len(u.Query().Get("token")) != 32 || u.Query().Get("callbackURL") != "/goodbye" {
		t.Fatalf("link = %q", link)
	}

	ts.client(t).follow(link).wantError(t, http.StatusNotFound, "FAILED_TO_GET_USER_INFO")
	other := ts.client(t)
	other.signUp("other@example.com", "password123", "O")
	other.follow(link).wantError(t, http.StatusNotFound, "INVALID_TOKEN")
	c.follow(link).wantError(t, http.StatusNotFound, "INVALID_TOKEN")
	if userCount(t, ts, "bye@example.com") != 1 {
		t.Fatal("deleted by a spent link")
	}

	c.post("/api/auth/delete-user", map[string]any{"callbackURL": "/goodbye"}).wantStatus(t, http.StatusOK)
	link = smtpd.nextMail(t, "bye@example.com").link(t)
	u, _ = url.Parse(link)
	c.get("/api/auth/delete-user/callback?token="+u.Query().Get("token")+"&callbackURL=https%3A%2F%2Fevil.com").wantError(t, http.StatusForbidden, "INVALID_CALLBACK_URL")
	resp = c.follow(link)
	if resp.location(t) != "/goodbye" || resp.setCookie("better-auth.session_token") == "" {
		t.Fatalf("callback answered %v", resp.Header)
	}
	if userCount(t, ts, "bye@example.com") != 0 || userCount(t, ts, "other@example.com") != 1 {
		t.Fatal("wrong users deleted")
	}
	c.follow(link).wantError(t, http.StatusNotFound, "FAILED_TO_GET_USER_INFO")
}

// TestDeleteTokenWorksOnce ensures fifty parallel uses of one delete token delete exactly once.
func TestDeleteTokenWorksOnce(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, func(c *config) { c.Email.DeleteUserVerification = true })
	c := ts.client(t)
	c.signUp("once@example.com", "password123", "O")
	c.post("/api/auth/delete-user", nil).wantStatus(t, http.StatusOK)
	u, _ := url.Parse(smtpd.nextMail(t, "once@example.com").link(t))
	token := u.Query().Get("token")
	// Every request carries the same session, as tabs of one browser would.
	clients := tabs(t, c, 50)
	statuses := parallel(50, func(i int) int {
		return clients[i].post("/api/auth/delete-user", map[string]any{"token": token}).Status
	})
	recordRace(t, "delete-user token", 50, statuses[http.StatusOK], statuses)
	if statuses[http.StatusOK] != 1 || statuses[http.StatusOK]+statuses[http.StatusNotFound]+statuses[http.StatusUnauthorized] != 50 {
		t.Fatalf("statuses = %v, want exactly one 200 and the rest 404 or 401", statuses)
	}
}
