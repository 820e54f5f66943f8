package main

import (
	"net/http"
	"slices"
	"testing"
)

// TestIDTokenWithANonceIsRefusedWithoutIt: a stolen Google ID token bound to a nonce is posted
// without the nonce (upstream checks a nonce only when the caller sends one). Refused, no user
// made; with the nonce it signs in.
func TestIDTokenWithANonceIsRefusedWithoutIt(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"google"})
	idp := e.idps["google"]
	token := idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-1", Name: "Nia", Email: "nia@example.com", EmailVerified: true}, "n-1"))
	e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": token}}).
		wantError(t, 401, "INVALID_TOKEN")
	if e.rowCount(t, "user") != 0 {
		t.Fatal("a token without its nonce made a user")
	}
	e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": token, "nonce": "n-1"}}).
		wantStatus(t, http.StatusOK)
}

// TestIDTokenReplayIsRefusedOnEveryReplica: an ID token that signed in once is posted again, to
// the same replica and to another on the same database, within its lifetime. Both refused.
func TestIDTokenReplayIsRefusedOnEveryReplica(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"google"})
	other := startTestServer(t, e.db, nil, func(c *config) { c.OAuth = e.cfg.OAuth })
	idp := e.idps["google"]
	token := idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-2", Name: "Rex", Email: "rex@example.com", EmailVerified: true}, ""))
	body := map[string]any{"provider": "google", "idToken": map[string]any{"token": token}}
	e.client(t).post("/api/auth/sign-in/social", body).wantStatus(t, http.StatusOK)
	sessions := e.rowCount(t, "session")
	e.client(t).post("/api/auth/sign-in/social", body).wantError(t, 401, "INVALID_TOKEN")
	other.client(t).post("/api/auth/sign-in/social", body).wantError(t, 401, "INVALID_TOKEN")
	if e.rowCount(t, "session") != sessions {
		t.Fatal("a replayed ID token made a session")
	}
	// A fresh token of the same user still signs in.
	fresh := idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-2", Name: "Rex", Email: "rex@example.com", EmailVerified: true}, "other"))
	other.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": fresh, "nonce": "other"}}).
		wantStatus(t, http.StatusOK)
	recordFigures(t, "id token once", map[string]any{"replays_refused": 2, "replicas": 2})
}

// TestGenericOIDCProviderDefaultScopes: a generic OpenID provider requests openid, email and
// profile unless AUTH_OIDC_<ID>_SCOPES says otherwise (openid always kept), as upstream's
// genericOAuth does; with openid alone most IdPs return no email and sign-in fails.
func TestGenericOIDCProviderDefaultScopes(t *testing.T) {
	t.Parallel()
	ep := &oidcEndpoints{Issuer: "https://idp.example.com", Authorization: "https://idp.example.com/a", Token: "https://idp.example.com/t", JWKS: "https://idp.example.com/k"}
	for _, tc := range []struct {
		configured, want []string
	}{
		{nil, []string{"openid", "email", "profile"}},
		{[]string{"email", "groups"}, []string{"openid", "email", "groups"}},
		{[]string{"openid"}, []string{"openid"}},
	} {
		p := newOIDCProvider(providerConfig{ID: "acme", ClientID: "c", Scopes: tc.configured}, ep, http.DefaultClient, nil)
		if !slices.Equal(p.oauth.Scopes, tc.want) {
			t.Errorf("scopes %v: requested %v, want %v", tc.configured, p.oauth.Scopes, tc.want)
		}
	}
}
