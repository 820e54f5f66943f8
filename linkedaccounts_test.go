package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// accountsOf lists the signed-in user's accounts by provider.
func (c *testClient) accountsOf(t *testing.T) map[string]accountRow {
	t.Helper()
	var rows []accountRow
	c.get("/api/auth/list-accounts").wantStatus(t, http.StatusOK).decode(t, &rows)
	out := map[string]accountRow{}
	for _, r := range rows {
		out[r.ProviderID] = r
	}
	return out
}

// TestLinkSocialRedirectFlow ensures a signed-in user links a provider account through the
// redirect flow, keeping their session, and that each of upstream's refusals ends at the error
// URL without linking.
func TestLinkSocialRedirectFlow(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	idp := e.idps["github"]
	c := e.client(t)
	me := c.signUp("octo@example.com", "password123", "Octo")
	link := func(c *testClient, u fakeUser) *testResponse {
		idp.signIn(u)
		return c.callback(t, e.authorize(t, c.startSocial(t, "/api/auth/link-social", map[string]any{"provider": "github", "callbackURL": "/settings", "errorCallbackURL": "/settings/error"})))
	}

	t.Run("unverified at the provider", func(t *testing.T) {
		link(c, fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com"}).wantOAuthError(t, "/settings/error", "unable_to_link_account")
	})
	t.Run("another email", func(t *testing.T) {
		link(c, fakeUser{Sub: "1", Login: "octo", Email: "someone@example.com", EmailVerified: true}).wantOAuthError(t, "/settings/error", "email_does_not_match")
	})
	t.Run("session ended before the callback", func(t *testing.T) {
		other := e.client(t)
		other.signUp("otto@example.com", "password123", "Otto")
		idp.signIn(fakeUser{Sub: "2", Login: "otto", Email: "otto@example.com", EmailVerified: true})
		cb := e.authorize(t, other.startSocial(t, "/api/auth/link-social", map[string]any{"provider": "github", "callbackURL": "/settings"}))
		other.post("/api/auth/sign-out", nil).wantStatus(t, http.StatusOK)
		other.callback(t, cb).wantOAuthError(t, e.URL+"/api/auth/error", "unable_to_link_account")
	})
	if n := e.rowCount(t, "account"); n != 2 {
		t.Fatalf("%d accounts after refused links, want the 2 credential accounts", n)
	}

	t.Run("links", func(t *testing.T) {
		before := c.cookies["better-auth.session_token"]
		resp := link(c, fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com", EmailVerified: true})
		resp.wantRedirect(t, "/settings")
		if resp.setCookie("better-auth.session_token") != "" || c.cookies["better-auth.session_token"] != before {
			t.Error("linking changed the session cookie")
		}
		gh, ok := c.accountsOf(t)["github"]
		if !ok || gh.UserID != me["id"] || gh.AccountID != "1" || len(gh.Scopes) != 2 {
			t.Fatalf("github account = %+v", gh)
		}
	})
	t.Run("linked to another user", func(t *testing.T) {
		other := e.client(t)
		other.signUp("octo2@example.com", "password123", "Octo 2")
		link(other, fakeUser{Sub: "1", Login: "octo", Email: "octo2@example.com", EmailVerified: true}).
			wantOAuthError(t, "/settings/error", "account_already_linked_to_different_user")
	})
	t.Run("again with more scopes merges them", func(t *testing.T) {
		idp.signIn(fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com", EmailVerified: true})
		c.callback(t, e.authorize(t, c.startSocial(t, "/api/auth/link-social", map[string]any{"provider": "github", "callbackURL": "/settings", "scopes": []string{"repo"}}))).
			wantRedirect(t, "/settings")
		if a := e.account(t, "github", "1"); a.Scope != "read:user,user:email,repo" {
			t.Fatalf("scope = %q, want the union", a.Scope)
		}
	})
}

// TestLinkSocialWithIDToken covers link-social's ID token branch and its error codes.
func TestLinkSocialWithIDToken(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"google"})
	idp := e.idps["google"]
	token := func(sub, email string, verified bool) map[string]any {
		return map[string]any{"token": idp.mint(idp.idTokenClaims(fakeUser{Sub: sub, Email: email, EmailVerified: verified}, ""))}
	}
	e.client(t).post("/api/auth/link-social", map[string]any{"provider": "google", "idToken": token("g-1", "gina@example.com", true)}).
		wantError(t, 401, "UNAUTHORIZED")
	c := e.client(t)
	c.signUp("gina@example.com", "password123", "Gina")
	linked := map[string]any{"url": "", "status": true, "redirect": false}
	tests := []struct {
		name   string
		token  map[string]any
		status int
		code   string
	}{
		{"forged token", map[string]any{"token": "a.b.c"}, 401, "INVALID_TOKEN"},
		{"unverified email", token("g-1", "gina@example.com", false), 401, "LINKING_NOT_ALLOWED"},
		{"another email", token("g-1", "gigi@example.com", true), 401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED"},
		{"links", token("g-1", "gina@example.com", true), 200, ""},
		// Another token: one token is accepted once (idtokenreplay.go).
		{"links again", map[string]any{"token": idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-1", Email: "gina@example.com", EmailVerified: true}, "again")), "nonce": "again"}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := c.post("/api/auth/link-social", map[string]any{"provider": "google", "idToken": tc.token})
			if tc.code != "" {
				resp.wantError(t, tc.status, tc.code)
				return
			}
			var got map[string]any
			resp.wantStatus(t, http.StatusOK).decode(t, &got)
			if len(got) != 3 || got["url"] != linked["url"] || got["status"] != true || got["redirect"] != false {
				t.Fatalf("body = %s", resp.Body)
			}
		})
	}
	if a := e.account(t, "google", "g-1"); a == nil || e.rowCount(t, "account") != 2 {
		t.Fatal("want exactly one google account next to the credential one")
	}
	other := e.client(t)
	other.signUp("gina2@example.com", "password123", "Gina 2")
	other.post("/api/auth/link-social", map[string]any{"provider": "google", "idToken": token("g-1", "gina2@example.com", true)}).
		wantError(t, 409, "SOCIAL_ACCOUNT_ALREADY_LINKED")
}

// TestUnlinkAccountKeepsTheLastOne ensures unlink-account refuses to remove a user's last account,
// also when two unlinks race for the last two.
func TestUnlinkAccountKeepsTheLastOne(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"google"})
	idp := e.idps["google"]
	c := e.client(t)
	c.signUp("gina@example.com", "password123", "Gina")
	credential := c.accountsOf(t)["credential"].ID
	c.post("/api/auth/unlink-account", map[string]any{"accountId": credential}).wantError(t, 400, "FAILED_TO_UNLINK_LAST_ACCOUNT")
	c.post("/api/auth/link-social", map[string]any{"provider": "google",
		"idToken": map[string]any{"token": idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-1", Email: "gina@example.com", EmailVerified: true}, ""))}}).
		wantStatus(t, http.StatusOK)
	google := c.accountsOf(t)["google"].ID
	c.post("/api/auth/unlink-account", map[string]any{"accountId": "nope"}).wantError(t, 400, "ACCOUNT_NOT_FOUND")
	e.client(t).post("/api/auth/unlink-account", map[string]any{"accountId": google}).wantError(t, 401, "UNAUTHORIZED")

	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, id := range []string{credential, google} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = c.post("/api/auth/unlink-account", map[string]any{"accountId": id}).Status
		}()
	}
	wg.Wait()
	if n := e.rowCount(t, "account"); n != 1 || statuses[0]+statuses[1] != 200+400 {
		t.Fatalf("statuses %v left %d accounts, want one unlink to succeed and one account left", statuses, n)
	}
}

// tokenEnv signs a user in with GitHub and returns the client and the account's row id.
func tokenEnv(t *testing.T, opts ...func(*config)) (*oauthEnv, *testClient, string) {
	t.Helper()
	e := newOAuthEnv(t, []string{"github"}, opts...)
	e.idps["github"].signIn(fakeUser{Sub: "12345", Login: "octo", Name: "Octo Cat", Email: "octo@example.com", EmailVerified: true, Picture: "https://avatars/x.png"})
	c := e.client(t)
	e.socialSignIn(t, c, map[string]any{"provider": "github", "callbackURL": "/dashboard"}).wantRedirect(t, "/dashboard")
	return e, c, c.accountsOf(t)["github"].ID
}

// TestGetAccessTokenRefreshesExpiredToken ensures get-access-token hands out the stored token while
// it is valid and refreshes it at the provider (storing the new tokens, encrypted when
// ENCRYPT_OAUTH_TOKENS is on) once it expires.
func TestGetAccessTokenRefreshesExpiredToken(t *testing.T) {
	t.Parallel()
	e, c, id := tokenEnv(t, func(c *config) { c.OAuth.EncryptTokens = true })
	idp := e.idps["github"]
	stored := e.account(t, "github", "12345")
	plain, err := e.symmetricDecrypt(*stored.AccessToken)
	if err != nil {
		t.Fatalf("stored access token is not encrypted: %v", err)
	}
	if _, ok := idp.access[plain]; !ok {
		t.Fatal("stored access token does not decrypt to the provider's")
	}
	var got accessToken
	c.post("/api/auth/get-access-token", map[string]any{"accountId": id}).wantStatus(t, http.StatusOK).decode(t, &got)
	if got.AccessToken != plain || idp.refreshCalls.Load() != 0 || got.AccessTokenExpiresAt == nil ||
		len(got.Scopes) != 2 || got.Scopes[0] != "read:user" {
		t.Fatalf("valid token: %+v (refreshes %d)", got, idp.refreshCalls.Load())
	}

	if _, err := e.db.Exec(context.Background(), `UPDATE account SET "accessTokenExpiresAt" = $2 WHERE id = $1`, id, e.now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.post("/api/auth/get-access-token", map[string]any{"accountId": id}).wantStatus(t, http.StatusOK).decode(t, &got)
	if idp.refreshCalls.Load() != 1 || got.AccessToken == plain || got.AccessTokenExpiresAt.Time().Before(e.now()) {
		t.Fatalf("expired token: %+v (refreshes %d), want a new one", got, idp.refreshCalls.Load())
	}
	if _, ok := idp.access[got.AccessToken]; !ok {
		t.Fatal("refreshed token is not one the provider issued")
	}
	after := e.account(t, "github", "12345")
	if now, err := e.symmetricDecrypt(*after.AccessToken); err != nil || now != got.AccessToken {
		t.Fatalf("stored token after refresh: %q, %v", now, err)
	}
	if *after.RefreshToken == *stored.RefreshToken {
		t.Error("rotated refresh token not stored")
	}
}

// TestRefreshTokenAndAccountInfo covers refresh-token's answer and account-info's call to the
// provider, and the errors of both for accounts without a provider or a refresh token.
func TestRefreshTokenAndAccountInfo(t *testing.T) {
	t.Parallel()
	e, c, id := tokenEnv(t)
	var out map[string]any
	c.post("/api/auth/refresh-token", map[string]any{"accountId": id}).wantStatus(t, http.StatusOK).decode(t, &out)
	for _, k := range []string{"accessToken", "refreshToken", "accessTokenExpiresAt", "refreshTokenExpiresAt", "scope", "idToken", "providerId", "accountId"} {
		if _, ok := out[k]; !ok {
			t.Errorf("refresh-token lacks %q: %v", k, out)
		}
	}
	if out["providerId"] != "github" || out["accountId"] != id || out["scope"] != "read:user,user:email" || out["refreshTokenExpiresAt"] != nil {
		t.Errorf("refresh-token = %v", out)
	}
	if a := e.account(t, "github", "12345"); deref(a.AccessToken) != out["accessToken"] || deref(a.RefreshToken) != out["refreshToken"] {
		t.Error("refreshed tokens not stored")
	}

	var info struct {
		User    map[string]any    `json:"user"`
		Data    map[string]any    `json:"data"`
		Account map[string]string `json:"account"`
	}
	c.get("/api/auth/account-info?accountId="+id).wantStatus(t, http.StatusOK).decode(t, &info)
	if info.User["name"] != "Octo Cat" || info.User["email"] != "octo@example.com" || info.User["emailVerified"] != true ||
		info.User["image"] != "https://avatars/x.png" || info.Data["login"] != "octo" || info.Data["id"] != 12345.0 ||
		info.Account["id"] != id || info.Account["providerId"] != "github" || info.Account["accountId"] != "12345" {
		t.Fatalf("account-info = %+v", info)
	}

	pw := e.client(t)
	pw.signUp("pat@example.com", "password123", "Pat")
	credential := pw.accountsOf(t)["credential"].ID
	pw.get("/api/auth/account-info?accountId="+credential).wantError(t, 400, "PROVIDER_NOT_CONFIGURED")
	pw.post("/api/auth/get-access-token", map[string]any{"accountId": credential}).wantError(t, 400, "PROVIDER_NOT_SUPPORTED")
	pw.post("/api/auth/refresh-token", map[string]any{"accountId": credential}).wantError(t, 400, "PROVIDER_NOT_SUPPORTED")
	if _, err := e.db.Exec(context.Background(), `UPDATE account SET "refreshToken" = NULL WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	c.post("/api/auth/refresh-token", map[string]any{"accountId": id}).wantError(t, 400, "REFRESH_TOKEN_NOT_FOUND")
	if _, err := e.db.Exec(context.Background(), `UPDATE account SET "refreshToken" = 'revoked' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	c.post("/api/auth/refresh-token", map[string]any{"accountId": id}).wantError(t, 400, "FAILED_TO_REFRESH_ACCESS_TOKEN")
}

// TestAccountSelectionIsStrict ensures the token endpoints validate their selector as upstream's
// strict union does, before asking for a session, and answer 401 with no body without one.
func TestAccountSelectionIsStrict(t *testing.T) {
	t.Parallel()
	e, c, id := tokenEnv(t)
	tests := []struct {
		name    string
		body    any
		message string
	}{
		{"empty", map[string]any{}, "[body] Invalid input"},
		{"both branches", map[string]any{"accountId": id, "useAccountCookie": true}, "[body] Invalid input"},
		{"useAccountCookie false", map[string]any{"useAccountCookie": false}, "[body] Invalid input"},
		{"accountId not a string", map[string]any{"accountId": 1}, "[body] Invalid input"},
		{"userId not a string", map[string]any{"accountId": id, "userId": 2}, "[body] Invalid input"},
		{"unknown key", map[string]any{"accountId": id, "foo": 1}, `[body] Unrecognized key: "foo"`},
		{"unknown keys", map[string]any{"accountId": id, "a": 1, "b": 2}, `[body] Unrecognized keys: "a", "b"`},
		{"unknown key beside useAccountCookie", map[string]any{"useAccountCookie": true, "foo": 1}, `[body] Unrecognized key: "foo"`},
		{"an earlier client's providerId", map[string]any{"providerId": "github"}, "[body] Invalid input"},
		{"unknown key and no member", map[string]any{"accountId": 1, "foo": 1}, "[body] Invalid input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/auth/get-access-token", "/api/auth/refresh-token"} {
				resp := e.client(t).post(path, tc.body)
				resp.wantError(t, 400, "VALIDATION_ERROR")
				if msg := resp.object(t)["message"]; msg != tc.message {
					t.Errorf("%s: message = %q, want %q", path, msg, tc.message)
				}
			}
		})
	}
	resp := e.client(t).post("/api/auth/get-access-token", map[string]any{"accountId": id})
	if resp.Status != 401 || len(resp.Body) != 0 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("without a session: %d %q (%s), want 401 with no body, said to be JSON as upstream's", resp.Status, resp.Body, resp.Header.Get("Content-Type"))
	}
	c.post("/api/auth/get-access-token", map[string]any{"useAccountCookie": true}).wantError(t, 400, "ACCOUNT_NOT_FOUND")
	c.post("/api/auth/get-access-token", map[string]any{"accountId": "nope"}).wantError(t, 400, "ACCOUNT_NOT_FOUND")
	for query, message := range map[string]string{"accountId=x&foo=1": `[query] Unrecognized key: "foo"`, "foo=1": "[query] Invalid input"} {
		resp := c.get("/api/auth/account-info?" + query)
		resp.wantError(t, 400, "VALIDATION_ERROR")
		if got := resp.object(t)["message"]; got != message {
			t.Errorf("account-info?%s: message = %q, want %q", query, got, message)
		}
	}
	c.get("/api/auth/account-info?useAccountCookie=true").wantError(t, 400, "VALIDATION_ERROR")
	c.get("/api/auth/account-info").wantError(t, 400, "VALIDATION_ERROR")

	// Another user's account is not found, whatever userId says.
	other := e.client(t)
	other.signUp("other@example.com", "password123", "Other")
	other.post("/api/auth/get-access-token", map[string]any{"accountId": id, "userId": "whatever"}).wantError(t, 400, "ACCOUNT_NOT_FOUND")
}
