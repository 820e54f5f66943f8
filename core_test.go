package main

import (
	"net/http"
	"testing"
)

// TestSignUpSignInSession ensures the basic email+password flow works end to end.
func TestSignUpSignInSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	u := c.signUp("Alice@Example.com", "password123", "Alice")
	if u["email"] != "alice@example.com" {
		t.Fatalf("email = %v", u["email"])
	}
	resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	t.Logf("%s", resp.Body)
	c2 := ts.client(t)
	resp = c2.post("/api/auth/sign-in/email", map[string]any{"email": "alice@example.com", "password": "password123", "callbackURL": "/dash", "rememberMe": false})
	t.Logf("%v %s", resp.Header, resp.Body)
}
