package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// ssoEnv is the sidecar with a fake identity provider whose origin it trusts, and an owner who
// registers providers. Every provider of a test is "acme", so the provider knows its redirect URI.
type ssoEnv struct {
	*testServer
	idp   *fakeIdP
	owner *testClient
}

const ssoPassword = "correct-horse-1"

func newSSOEnv(t *testing.T, opts ...func(*config)) *ssoEnv {
	t.Helper()
	idp := newFakeIdP(t, "acme-client", "acme-secret")
	ts := newTestServer(t, append([]func(*config){func(c *config) {
		c.TrustedOrigins = append(c.TrustedOrigins, idp.URL)
		idp.redirectURI = c.BaseURL + "/api/auth/sso/callback/acme"
	}}, opts...)...)
	owner := ts.client(t)
	owner.signUp("owner@example.com", ssoPassword, "Owner")
	return &ssoEnv{testServer: ts, idp: idp, owner: owner}
}

// providerBody is a registration of the fake provider for acme.com, found by discovery.
func (e *ssoEnv) providerBody(extra map[string]any) map[string]any {
	b := map[string]any{"providerId": "acme", "issuer": e.idp.URL, "domain": "acme.com",
		"oidcConfig": map[string]any{"clientId": e.idp.clientID, "clientSecret": e.idp.clientSecret}}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (e *ssoEnv) register(t *testing.T, c *testClient, extra map[string]any) map[string]any {
	t.Helper()
	return c.post("/api/auth/sso/register", e.providerBody(extra)).wantStatus(t, http.StatusOK).object(t)
}

// createOrg makes an organization owned by c and returns its id.
func createOrg(t *testing.T, c *testClient, slug string) string {
	t.Helper()
	return c.post("/api/auth/organization/create", map[string]any{"name": slug, "slug": slug}).wantStatus(t, http.StatusOK).object(t)["id"].(string)
}

// addOrgMember makes a user with the role in c's organization and returns its client.
func (e *ssoEnv) addOrgMember(t *testing.T, owner *testClient, orgID, email, role string) *testClient {
	t.Helper()
	inv := owner.post("/api/auth/organization/invite-member", map[string]any{"email": email, "role": role, "organizationId": orgID}).
		wantStatus(t, http.StatusOK).object(t)
	c := e.client(t)
	c.signUp(email, ssoPassword, "Member")
	c.post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv["id"]}).wantStatus(t, http.StatusOK)
	return c
}

// startSSO posts sign-in/sso and returns the authorization URL.
func (c *testClient) startSSO(t *testing.T, body map[string]any) string {
	t.Helper()
	resp := c.post("/api/auth/sign-in/sso", body).wantStatus(t, http.StatusOK)
	m := resp.object(t)
	u, _ := m["url"].(string)
	if u == "" || m["redirect"] != true {
		t.Fatalf("sign-in/sso = %s, want url and redirect true", resp.Body)
	}
	return u
}

// ssoSignIn runs a whole sign-in through the fake provider as a browser and returns the callback's
// answer.
func (e *ssoEnv) ssoSignIn(t *testing.T, c *testClient, body map[string]any) *testResponse {
	t.Helper()
	return c.callback(t, e.authorizeAt(t, c.startSSO(t, body)))
}

func (e *ssoEnv) authorizeAt(t *testing.T, authURL string) callbackRequest {
	t.Helper()
	return (&oauthEnv{testServer: e.testServer}).authorize(t, authURL)
}

func (ts *testServer) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := ts.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSSOSignInFindsTheProviderAndProvisionsIntoItsOrganization ensures sign-in/sso finds an
// organization's provider by email domain (subdomains included), provider id, domain or
// organization slug, that the first sign-in creates the user and makes them a member with the
// configured role, and that a later sign-in finds the same user and membership.
func TestSSOSignInFindsTheProviderAndProvisionsIntoItsOrganization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lookup map[string]any
		email  string
		role   string // SSO_DEFAULT_ROLE; "" keeps the default
	}{
		{name: "email domain", lookup: map[string]any{"email": "bob@acme.com"}, email: "bob@acme.com"},
		{name: "subdomain of the provider's domain", lookup: map[string]any{"email": "bob@eu.acme.com"}, email: "bob@eu.acme.com"},
		{name: "provider id", lookup: map[string]any{"providerId": "acme", "loginHint": "carol@acme.com"}, email: "carol@acme.com"},
		{name: "domain", lookup: map[string]any{"domain": "ACME.com"}, email: "dan@acme.com"},
		{name: "organization slug", lookup: map[string]any{"organizationSlug": "acme-inc"}, email: "erin@acme.com", role: "admin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSSOEnv(t, func(c *config) { c.SSO.DefaultRole = tc.role })
			orgID := createOrg(t, e.owner, "acme-inc")
			e.register(t, e.owner, map[string]any{"organizationId": orgID, "domain": "example.org, acme.com"})
			e.idp.signIn(fakeUser{Sub: "sub-1", Name: "Bob", Email: tc.email, EmailVerified: true})

			c := e.client(t)
			body := map[string]any{"callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}
			for k, v := range tc.lookup {
				body[k] = v
			}
			e.ssoSignIn(t, c, body).wantRedirect(t, "/welcome")
			if got := c.sessionUser(t); got != tc.email {
				t.Fatalf("signed in as %q, want %q", got, tc.email)
			}
			wantRole := tc.role
			if wantRole == "" {
				wantRole = "member"
			}
			var role string
			err := e.db.QueryRow(context.Background(), `SELECT m.role FROM member m JOIN "user" u ON u.id = m."userId"
				WHERE m."organizationId" = $1 AND u.email = $2`, orgID, tc.email).Scan(&role)
			if err != nil || role != wantRole {
				t.Fatalf("membership role = %q (%v), want %q", role, err, wantRole)
			}
			if got := e.count(t, `SELECT count(*) FROM account WHERE "providerId" = 'acme' AND "accountId" = 'sub-1'`); got != 1 {
				t.Fatalf("acme accounts = %d, want 1", got)
			}

			again := e.client(t)
			e.ssoSignIn(t, again, body).wantRedirect(t, "/dashboard")
			if got := e.count(t, `SELECT count(*) FROM member WHERE "organizationId" = $1`, orgID); got != 2 {
				t.Fatalf("members = %d, want the owner and the one provisioned user", got)
			}
		})
	}
}

// TestSSOSignInFindsNoProviderForAnotherDomain ensures a domain is matched on label boundaries: a
// look-alike domain, or the provider's domain as a prefix of another, finds nothing.
func TestSSOSignInFindsNoProviderForAnotherDomain(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	c := e.client(t)
	// A domain longer than DNS allows is no one's, even under acme.com.
	tooLong := "bob@" + strings.Repeat("a.", 130) + "acme.com"
	for _, email := range []string{"bob@notacme.com", "bob@acme.com.evil.example", "bob@com", tooLong} {
		c.post("/api/auth/sign-in/sso", map[string]any{"email": email, "callbackURL": "/"}).wantStatus(t, http.StatusNotFound)
	}
	c.post("/api/auth/sign-in/sso", map[string]any{"callbackURL": "/"}).wantStatus(t, http.StatusBadRequest)
	c.post("/api/auth/sign-in/sso", map[string]any{"organizationSlug": "nobody", "callbackURL": "/"}).wantStatus(t, http.StatusBadRequest)
}

// TestSSOSignInStartsWithStatePKCEAndNonce ensures sign-in/sso answers the provider's authorization
// URL (and no Location header, as upstream), binds the flow to the browser with the signed state
// cookie, and stores the state upstream's callback can read: PKCE verifier, nonce and a reference
// to the provider's configuration.
func TestSSOSignInStartsWithStatePKCEAndNonce(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	reg := e.register(t, e.owner, nil)
	c := e.client(t)
	resp := c.post("/api/auth/sign-in/sso", map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}).wantStatus(t, http.StatusOK)
	if loc := resp.Header.Get("Location"); loc != "" {
		t.Errorf("Location = %q, want none", loc)
	}
	u, err := url.Parse(resp.object(t)["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type": "code", "client_id": "acme-client", "scope": "openid email profile offline_access",
		"redirect_uri": e.URL + "/api/auth/sso/callback/acme", "login_hint": "bob@acme.com", "code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Scheme+"://"+u.Host+u.Path != e.idp.URL+"/authorize" || q.Get("nonce") == "" || q.Get("code_challenge") == "" {
		t.Fatalf("authorization URL %s lacks the endpoint, nonce or challenge", u)
	}
	if c := resp.setCookie("better-auth.state"); !strings.Contains(c, "Max-Age=300") {
		t.Errorf("state cookie = %q", c)
	}
	var value string
	if err := e.db.QueryRow(context.Background(), `SELECT value FROM verification WHERE identifier = $1`, "auth-state:"+q.Get("state")).Scan(&value); err != nil {
		t.Fatal(err)
	}
	var st oauthState
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		t.Fatal(err)
	}
	ref := st.ServerContext.SSOProviderReference
	if pkceChallenge(st.CodeVerifier) != q.Get("code_challenge") || st.IDTokenNonce != q.Get("nonce") || st.CallbackURL != "/dashboard" {
		t.Errorf("state %s does not hold the flow's verifier, nonce and callback", value)
	}
	if ref == nil || ref.ProviderID != "acme" || ref.Source.Type != "persisted" || ref.Source.RecordID != reg["id"] || len(ref.Fingerprint) != 43 {
		t.Errorf("provider reference = %+v, want acme's persisted row %v", ref, reg["id"])
	}
}

// TestSSOCallbackRefusesABadIDToken ensures an ID token is accepted only when it is signed by a key
// of the provider's JWKS, issued by the provider for our client, unexpired, and carries the nonce
// of this flow; otherwise nobody is signed in and no user is created.
func TestSSOCallbackRefusesABadIDToken(t *testing.T) {
	t.Parallel()
	stranger := newFakeIdP(t, "x", "y") // its key is in no JWKS of ours
	tests := []struct {
		name   string
		tamper func(c map[string]any) *fakeKey
	}{
		{"signed by a key the provider does not publish", func(map[string]any) *fakeKey { return &stranger.keys[0] }},
		{"for another audience", func(c map[string]any) *fakeKey { c["aud"] = "another-client"; return nil }},
		{"for several audiences without us as authorized party", func(c map[string]any) *fakeKey {
			c["aud"] = []string{"acme-client", "another-client"}
			return nil
		}},
		{"authorized for another party", func(c map[string]any) *fakeKey { c["azp"] = "another-client"; return nil }},
		{"from another issuer", func(c map[string]any) *fakeKey { c["iss"] = "https://evil.example"; return nil }},
		{"expired", func(c map[string]any) *fakeKey {
			c["iat"], c["exp"] = c["iat"].(int64)-7200, c["iat"].(int64)-3600
			return nil
		}},
		{"with another flow's nonce", func(c map[string]any) *fakeKey { c["nonce"] = "not-this-flows-nonce"; return nil }},
		{"without a nonce", func(c map[string]any) *fakeKey { delete(c, "nonce"); return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSSOEnv(t)
			e.register(t, e.owner, nil)
			e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com", EmailVerified: true})
			e.idp.tamper = tc.tamper
			c := e.client(t)
			q := e.ssoSignIn(t, c, map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "errorCallbackURL": "/sso-error"}).
				wantOAuthError(t, "/sso-error", "invalid_provider")
			if got := q.Get("error_description"); got != "token_not_verified" {
				t.Errorf("error_description = %q, want token_not_verified", got)
			}
			if got := c.sessionUser(t); got != "" {
				t.Fatalf("signed in as %q", got)
			}
			if got := e.rowCount(t, "user"); got != 1 {
				t.Fatalf("users = %d, want only the owner", got)
			}
		})
	}
}

// TestSSOVerifiesTokensAcrossAKeyRotation ensures that when the provider starts signing with a new
// key, the cached key set is fetched again and sign-in keeps working.
func TestSSOVerifiesTokensAcrossAKeyRotation(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	body := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}
	e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/welcome")
	e.idp.rotateKey()
	e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/dashboard")
}

// TestSSOCallbackStateWorksOnce ensures a callback replayed with the same state and code signs
// nobody in a second time.
func TestSSOCallbackStateWorksOnce(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	c := e.client(t)
	cb := e.authorizeAt(t, c.startSSO(t, map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}))
	state := c.cookies["better-auth.state"]
	c.callback(t, cb).wantRedirect(t, "/dashboard")
	replay := e.client(t)
	replay.cookies["better-auth.state"] = state
	replay.callback(t, cb).wantOAuthError(t, e.URL+"/api/auth/error", "state_mismatch")
	if got := e.count(t, `SELECT count(*) FROM session s JOIN "user" u ON u.id = s."userId" WHERE u.email = 'bob@acme.com'`); got != 1 {
		t.Fatalf("bob's sessions = %d, want 1", got)
	}
}

// TestSSOSharedCallbackReadsTheProviderFromState ensures /sso/callback completes a flow whose
// provider it learns from the state alone, and refuses a state without a provider reference.
func TestSSOSharedCallbackReadsTheProviderFromState(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	c := e.client(t)
	cb := e.authorizeAt(t, c.startSSO(t, map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}))
	cb.path = strings.Replace(cb.path, "/sso/callback/acme?", "/sso/callback?", 1)
	c.callback(t, cb).wantRedirect(t, "/dashboard")
	if got := c.sessionUser(t); got != "bob@acme.com" {
		t.Fatalf("signed in as %q", got)
	}

	// A social sign-in's state carries no provider reference.
	social := e.client(t)
	state := "s" + generateID(31)
	if err := e.createVerification(context.Background(), e.db, "auth-state:"+state,
		`{"callbackURL":"/","codeVerifier":"v","expiresAt":99999999999999}`, e.now().Add(oauthStateTTL)); err != nil {
		t.Fatal(err)
	}
	social.cookies["better-auth.state"] = encodeURIComponent(e.sign(state))
	social.get("/api/auth/sso/callback?code=x&state="+state).wantOAuthError(t, e.URL+"/api/auth/error", "invalid_state")
}

// TestSSOCallbackRefusesAProviderChangedMidFlow ensures a flow started before the provider's
// configuration changed cannot finish under the new one.
func TestSSOCallbackRefusesAProviderChangedMidFlow(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	c := e.client(t)
	cb := e.authorizeAt(t, c.startSSO(t, map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "errorCallbackURL": "/sso-error"}))
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "oidcConfig": map[string]any{"scopes": []string{"openid"}}}).
		wantStatus(t, http.StatusOK)
	q := c.callback(t, cb).wantOAuthError(t, "/sso-error", "invalid_state")
	if got := q.Get("error_description"); got != "sso_provider_changed_during_authentication" {
		t.Errorf("error_description = %q", got)
	}
}

// TestSSOCallbackReportsTheProvidersRefusal ensures an error from the provider (the user said no)
// reaches the error URL with its description.
func TestSSOCallbackReportsTheProvidersRefusal(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.denyNext = "access_denied"
	c := e.client(t)
	q := e.ssoSignIn(t, c, map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "errorCallbackURL": "/sso-error"}).
		wantOAuthError(t, "/sso-error", "access_denied")
	if got := q.Get("error_description"); got != "The user denied the request" {
		t.Errorf("error_description = %q", got)
	}
}

// TestSSODoesNotLinkAnUnverifiedExistingUser ensures a provider cannot take over an account with
// the same email unless both the provider (SSO_TRUST_EMAIL_VERIFIED) and the account vouch for it.
func TestSSODoesNotLinkAnUnverifiedExistingUser(t *testing.T) {
	t.Parallel()
	for _, trust := range []bool{false, true} {
		e := newSSOEnv(t, func(c *config) { c.SSO.TrustEmailVerified = trust })
		e.register(t, e.owner, nil)
		e.client(t).signUp("bob@acme.com", ssoPassword, "Bob")
		e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com", EmailVerified: true})
		body := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "errorCallbackURL": "/sso-error"}
		e.ssoSignIn(t, e.client(t), body).wantOAuthError(t, "/sso-error", "account not linked")

		if _, err := e.db.Exec(context.Background(), `UPDATE "user" SET "emailVerified" = true WHERE email = 'bob@acme.com'`); err != nil {
			t.Fatal(err)
		}
		resp := e.ssoSignIn(t, e.client(t), body)
		if trust {
			resp.wantRedirect(t, "/dashboard")
		} else {
			resp.wantOAuthError(t, "/sso-error", "account not linked")
		}
	}
}

// TestSSOOverrideUserInfoUpdatesTheUserAtEachSignIn ensures a provider registered with
// overrideUserInfo keeps the user's name in step with the provider.
func TestSSOOverrideUserInfoUpdatesTheUserAtEachSignIn(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, map[string]any{"overrideUserInfo": true})
	e.idp.signIn(fakeUser{Sub: "sub-1", Name: "Bob", Email: "bob@acme.com"})
	body := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}
	e.ssoSignIn(t, e.client(t), body)
	e.idp.signIn(fakeUser{Sub: "sub-1", Name: "Robert", Email: "bob@acme.com"})
	c := e.client(t)
	e.ssoSignIn(t, c, body).wantRedirect(t, "/dashboard")
	var s map[string]map[string]any
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &s)
	if got := s["user"]["name"]; got != "Robert" {
		t.Fatalf("name = %v, want Robert", got)
	}
}

// TestSSORegistrationRefusesUntrustedOrPrivateEndpoints ensures discovery runs only against trusted
// origins, that every endpoint a discovery document names must be trusted too, and that an
// endpoint given by hand must be trusted or public; nothing is stored when refused.
func TestSSORegistrationRefusesUntrustedOrPrivateEndpoints(t *testing.T) {
	t.Parallel()
	// A trusted provider whose discovery document points its token endpoint elsewhere.
	var docURL string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": docURL, "authorization_endpoint": docURL + "/authorize",
			"token_endpoint": "https://token.evil.example/token", "jwks_uri": docURL + "/jwks"})
	}))
	t.Cleanup(elsewhere.Close)
	docURL = elsewhere.URL
	e := newSSOEnv(t, func(c *config) { c.TrustedOrigins = append(c.TrustedOrigins, elsewhere.URL) })
	tests := []struct {
		name   string
		issuer string
		oidc   map[string]any
		status int
		code   string
	}{
		{"discovery outside the trusted origins", "https://idp.untrusted.example", nil, 400, "discovery_untrusted_origin"},
		{"discovered endpoint outside the trusted origins", elsewhere.URL, nil, 400, "discovery_untrusted_origin"},
		{"endpoint on a private address", "https://idp.untrusted.example", map[string]any{"skipDiscovery": true, "tokenEndpoint": "http://10.0.0.1/token"}, 400, "discovery_private_host"},
		{"endpoint on localhost", "https://idp.untrusted.example", map[string]any{"skipDiscovery": true, "jwksEndpoint": "http://localhost:8080/jwks"}, 400, "discovery_private_host"},
		{"endpoint of a cloud metadata service", "https://idp.untrusted.example", map[string]any{"skipDiscovery": true, "userInfoEndpoint": "http://169.254.169.254/latest"}, 400, "discovery_private_host"},
		{"endpoint not over http", "https://idp.untrusted.example", map[string]any{"skipDiscovery": true, "tokenEndpoint": "file:///etc/passwd"}, 400, "discovery_invalid_url"},
		{"discovery for another issuer", e.idp.URL + "/tenant", map[string]any{"discoveryEndpoint": e.idp.URL + "/.well-known/openid-configuration"}, 400, "issuer_mismatch"},
		{"no discovery document", e.idp.URL, map[string]any{"discoveryEndpoint": e.idp.URL + "/nothing-here"}, 400, "discovery_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oidc := map[string]any{"clientId": "acme-client", "clientSecret": "acme-secret"}
			for k, v := range tc.oidc {
				oidc[k] = v
			}
			e.owner.post("/api/auth/sso/register", e.providerBody(map[string]any{"issuer": tc.issuer, "oidcConfig": oidc})).
				wantError(t, tc.status, tc.code)
		})
	}
	if got := e.rowCount(t, "ssoProvider"); got != 0 {
		t.Fatalf("providers = %d, want none stored", got)
	}
}

// TestSSODiscoveryFailureKeepsNetworkErrorsOut ensures a discovery request that fails on the way
// answers upstream's 502 without the network error, which names the address the server dialled.
func TestSSODiscoveryFailureKeepsNetworkErrorsOut(t *testing.T) {
	t.Parallel()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // trusted, but nothing listens there any more
	e := newSSOEnv(t, func(c *config) { c.TrustedOrigins = append(c.TrustedOrigins, gone.URL) })
	oidc := map[string]any{"clientId": "acme-client", "clientSecret": "acme-secret"}
	resp := e.owner.post("/api/auth/sso/register", e.providerBody(map[string]any{"issuer": gone.URL, "oidcConfig": oidc}))
	resp.wantError(t, http.StatusBadGateway, "discovery_unexpected_error")
	host := strings.TrimPrefix(gone.URL, "http://")
	if strings.Contains(string(resp.Body), host) || strings.Contains(string(resp.Body), "dial") {
		t.Fatalf("body %s carries the network error", resp.Body)
	}
}

// TestSSORegistrationValidatesItsBody ensures malformed or unsupported registrations are refused
// with upstream's answers, before anything is stored.
func TestSSORegistrationValidatesItsBody(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(c *config) {
		c.OAuth.Providers = []providerConfig{{ID: "github", ClientID: "gh"}}
	})
	noSecret := map[string]any{"clientId": "acme-client", "skipDiscovery": true}
	tests := []struct {
		name   string
		extra  map[string]any
		status int
		code   string
	}{
		{"issuer that is not a URL", map[string]any{"issuer": "not a url"}, 400, "VALIDATION_ERROR"},
		{"endpoint that is not a URL", map[string]any{"oidcConfig": map[string]any{"clientId": "c", "tokenEndpoint": "nope"}}, 400, "VALIDATION_ERROR"},
		{"unknown oidcConfig key", map[string]any{"oidcConfig": map[string]any{"clientId": "c", "clientSecret": "s", "typo": true}}, 400, "VALIDATION_ERROR"},
		{"mapping without email", map[string]any{"oidcConfig": map[string]any{"clientId": "c", "mapping": map[string]any{"name": "n"}}}, 400, "VALIDATION_ERROR"},
		{"no client id", map[string]any{"oidcConfig": map[string]any{"clientSecret": "s"}}, 400, "VALIDATION_ERROR"},
		{"provider id that is not a path segment", map[string]any{"providerId": "acme/../x"}, 400, "VALIDATION_ERROR"},
		{"upstream's own provider id", map[string]any{"providerId": "credential"}, 422, ""},
		{"a social provider's id", map[string]any{"providerId": "github"}, 422, ""},
		{"no client secret", map[string]any{"oidcConfig": noSecret}, 400, ""},
		{"private_key_jwt", map[string]any{"oidcConfig": map[string]any{"clientId": "c", "skipDiscovery": true, "tokenEndpointAuthentication": "private_key_jwt"}}, 400, ""},
		{"SAML without an IdP entity id", map[string]any{"samlConfig": map[string]any{"entryPoint": "https://idp.example/sso"}}, 400, "VALIDATION_ERROR"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.owner.post("/api/auth/sso/register", e.providerBody(tc.extra))
			if tc.code == "" {
				resp.wantStatus(t, tc.status)
				if m := resp.object(t); m["message"] == "" || m["code"] != nil {
					t.Fatalf("body = %s, want upstream's message without a code", resp.Body)
				}
				return
			}
			resp.wantError(t, tc.status, tc.code)
		})
	}
	if got := e.rowCount(t, "ssoProvider"); got != 0 {
		t.Fatalf("providers = %d, want none stored", got)
	}
	e.client(t).post("/api/auth/sso/register", e.providerBody(nil)).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	e.register(t, e.owner, nil)
	e.owner.post("/api/auth/sso/register", e.providerBody(nil)).wantStatus(t, http.StatusUnprocessableEntity)
}

// TestSSORegistrationForAnOrganizationNeedsItsOwnerOrAdmin ensures only an organization's owners
// and admins register providers for it.
func TestSSORegistrationForAnOrganizationNeedsItsOwnerOrAdmin(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	orgID := createOrg(t, e.owner, "acme-inc")
	member := e.addOrgMember(t, e.owner, orgID, "member@example.com", "member")
	outsider := e.client(t)
	outsider.signUp("outsider@example.com", ssoPassword, "Outsider")
	body := map[string]any{"organizationId": orgID}
	member.post("/api/auth/sso/register", e.providerBody(body)).wantStatus(t, http.StatusForbidden)
	outsider.post("/api/auth/sso/register", e.providerBody(body)).wantStatus(t, http.StatusBadRequest)
	if got := e.rowCount(t, "ssoProvider"); got != 0 {
		t.Fatalf("providers = %d after refused registrations", got)
	}
	admin := e.addOrgMember(t, e.owner, orgID, "admin@example.com", "admin")
	if got := e.register(t, admin, body)["organizationId"]; got != orgID {
		t.Fatalf("organizationId = %v", got)
	}
}

// TestSSOProviderIsManagedOnlyByItsOwners ensures a provider is listed, read, changed and deleted
// only by the user who registered it or, for an organization's provider, its owners and admins.
func TestSSOProviderIsManagedOnlyByItsOwners(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	other := e.client(t)
	other.signUp("other@example.com", ssoPassword, "Other")

	other.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusForbidden)
	other.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "domain": "evil.example"}).wantStatus(t, http.StatusForbidden)
	other.post("/api/auth/sso/delete-provider", map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusForbidden)
	other.get("/api/auth/sso/get-provider?providerId=nobody").wantStatus(t, http.StatusNotFound)
	var list struct{ Providers []map[string]any }
	other.get("/api/auth/sso/providers").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Providers) != 0 {
		t.Fatalf("other sees %d providers", len(list.Providers))
	}

	got := e.owner.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusOK).object(t)
	cfg := got["oidcConfig"].(map[string]any)
	if cfg["clientIdLastFour"] != "****ient" || cfg["clientSecret"] != nil || cfg["clientId"] != nil || got["type"] != "oidc" {
		t.Fatalf("provider = %v, want the client id masked and no secret", got)
	}
	updated := e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "domain": "acme.org"}).wantStatus(t, http.StatusOK).object(t)
	if updated["domain"] != "acme.org" {
		t.Fatalf("updated domain = %v", updated["domain"])
	}
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusBadRequest)
	e.owner.get("/api/auth/sso/providers").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Providers) != 1 || list.Providers[0]["providerId"] != "acme" {
		t.Fatalf("owner's providers = %v", list.Providers)
	}
	e.owner.post("/api/auth/sso/delete-provider", map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusOK)
	e.owner.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusNotFound)

	// An organization's provider belongs to the organization's owners and admins, not to members.
	orgID := createOrg(t, e.owner, "acme-inc")
	member := e.addOrgMember(t, e.owner, orgID, "member@example.com", "member")
	admin := e.addOrgMember(t, e.owner, orgID, "admin@example.com", "admin")
	e.register(t, e.owner, map[string]any{"organizationId": orgID})
	admin.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusOK)
	member.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusForbidden)
	admin.get("/api/auth/sso/providers").wantStatus(t, http.StatusOK).decode(t, &list)
	if len(list.Providers) != 1 {
		t.Fatalf("admin sees %d providers, want the organization's", len(list.Providers))
	}
}

// TestSSOIdentityOfAProviderIsFixedWhileItHasAccounts ensures the settings that decide whose
// accounts a provider signs in cannot change once it has signed someone in, that others can, and
// that deleting the provider deletes its accounts.
func TestSSOIdentityOfAProviderIsFixedWhileItHasAccounts(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	e.ssoSignIn(t, e.client(t), map[string]any{"email": "bob@acme.com", "callbackURL": "/"}).wantRedirect(t, "/")
	for _, change := range []map[string]any{
		{"oidcConfig": map[string]any{"clientId": "another-client"}},
		{"oidcConfig": map[string]any{"tokenEndpoint": e.idp.URL + "/other-token"}},
		{"issuer": e.idp.URL + "/other"},
	} {
		change["providerId"] = "acme"
		e.owner.post("/api/auth/sso/update-provider", change).wantStatus(t, http.StatusConflict)
	}
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "oidcConfig": map[string]any{"scopes": []string{"openid", "email"}}}).
		wantStatus(t, http.StatusOK)
	e.owner.post("/api/auth/sso/delete-provider", map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusOK)
	if got := e.count(t, `SELECT count(*) FROM account WHERE "providerId" = 'acme'`); got != 0 {
		t.Fatalf("acme accounts = %d after delete", got)
	}
}

// TestSSOProvidersLimitCountsEachUsersProviders ensures SSO_PROVIDERS_LIMIT caps the providers one
// user registers, and that a limit of 0 turns registration off.
func TestSSOProvidersLimitCountsEachUsersProviders(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t, func(c *config) { c.SSO.ProvidersLimit = 1 })
	e.register(t, e.owner, nil)
	e.owner.post("/api/auth/sso/register", e.providerBody(map[string]any{"providerId": "acme-2"})).wantStatus(t, http.StatusForbidden)

	off := newSSOEnv(t, func(c *config) { c.SSO.ProvidersLimit = -1 })
	resp := off.owner.post("/api/auth/sso/register", off.providerBody(nil)).wantStatus(t, http.StatusForbidden)
	if got := resp.object(t)["message"]; got != "SSO provider registration is disabled" {
		t.Fatalf("message = %v", got)
	}
}

// TestSSOClientSecretIsStoredEncrypted ensures the client secret is stored encrypted with
// BETTER_AUTH_SECRET, answered in clear only to the registration, and that a provider the Node
// server stored (secret in plain text) still signs users in.
func TestSSOClientSecretIsStoredEncrypted(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	reg := e.register(t, e.owner, nil)
	if got := reg["oidcConfig"].(map[string]any)["clientSecret"]; got != "acme-secret" {
		t.Fatalf("registration answers clientSecret %v", got)
	}
	var stored string
	if err := e.db.QueryRow(context.Background(), `SELECT "oidcConfig" FROM "ssoProvider"`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	var cfg ssoOIDCConfig
	if err := json.Unmarshal([]byte(stored), &cfg); err != nil {
		t.Fatal(err)
	}
	if plain, err := e.symmetricDecrypt(cfg.ClientSecret); err != nil || plain != "acme-secret" || strings.Contains(stored, "acme-secret") {
		t.Fatalf("stored oidcConfig %s does not hold the secret encrypted", stored)
	}
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	body := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}
	e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/dashboard")

	cfg.ClientSecret = "acme-secret"
	nodeWritten, _ := json.Marshal(cfg)
	if _, err := e.db.Exec(context.Background(), `UPDATE "ssoProvider" SET "oidcConfig" = $1`, string(nodeWritten)); err != nil {
		t.Fatal(err)
	}
	e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/dashboard")
}

// fakeTXT answers TXT lookups from a map.
type fakeTXT map[string][]string

func (f fakeTXT) LookupTXT(_ context.Context, name string) ([]string, error) {
	if recs, ok := f[name]; ok {
		return recs, nil
	}
	return nil, &netDNSError{name}
}

type netDNSError struct{ name string }

func (e *netDNSError) Error() string { return "no such host " + e.name }

// TestSSODomainVerificationGatesSignIn ensures that with SSO_DOMAIN_VERIFICATION a provider signs
// nobody in until the DNS TXT record of its token is published on each of its domains, and that
// the endpoints behave as upstream's.
func TestSSODomainVerificationGatesSignIn(t *testing.T) {
	t.Parallel()
	records := fakeTXT{}
	e := newSSOEnv(t, func(c *config) { c.SSO.DomainVerification = true })
	e.resolver = records
	reg := e.register(t, e.owner, map[string]any{"domain": "acme.com, https://acme.org/"})
	token, _ := reg["domainVerificationToken"].(string)
	if len(token) != 24 || reg["domainVerified"] != false {
		t.Fatalf("registration = %v, want an unverified domain and a token", reg)
	}
	e.idp.signIn(fakeUser{Sub: "sub-1", Email: "bob@acme.com"})
	signIn := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard"}
	e.client(t).post("/api/auth/sign-in/sso", signIn).wantStatus(t, http.StatusUnauthorized)

	again := e.owner.post("/api/auth/sso/request-domain-verification", map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusCreated).object(t)
	if again["domainVerificationToken"] != token {
		t.Fatalf("pending token not reused: %v", again)
	}
	verify := map[string]any{"providerId": "acme"}
	e.owner.post("/api/auth/sso/verify-domain", verify).wantError(t, http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED")
	records["_better-auth-token-acme.acme.com"] = []string{"_better-auth-token-acme=" + token}
	records["_better-auth-token-acme.acme.org"] = []string{"something-else"}
	e.owner.post("/api/auth/sso/verify-domain", verify).wantError(t, http.StatusBadGateway, "DOMAIN_VERIFICATION_FAILED")
	records["_better-auth-token-acme.acme.org"] = []string{" " + token + " "}
	e.client(t).post("/api/auth/sso/verify-domain", verify).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
	e.owner.post("/api/auth/sso/verify-domain", verify).wantStatus(t, http.StatusNoContent)
	e.owner.post("/api/auth/sso/verify-domain", verify).wantError(t, http.StatusConflict, "DOMAIN_VERIFIED")

	if got := e.owner.get("/api/auth/sso/get-provider?providerId=acme").wantStatus(t, http.StatusOK).object(t)["domainVerified"]; got != true {
		t.Fatalf("domainVerified = %v", got)
	}
	e.ssoSignIn(t, e.client(t), signIn).wantRedirect(t, "/dashboard")

	// A new domain must be proved again.
	e.owner.post("/api/auth/sso/update-provider", map[string]any{"providerId": "acme", "domain": "acme.net"}).wantStatus(t, http.StatusOK)
	e.client(t).post("/api/auth/sign-in/sso", map[string]any{"providerId": "acme", "callbackURL": "/"}).wantStatus(t, http.StatusUnauthorized)
}

// TestSSODomainVerificationRoutesExistOnlyWhenOn ensures the verification endpoints answer 404
// when SSO_DOMAIN_VERIFICATION is off, as upstream does not register them then.
func TestSSODomainVerificationRoutesExistOnlyWhenOn(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	e.register(t, e.owner, nil)
	for _, path := range []string{"/api/auth/sso/request-domain-verification", "/api/auth/sso/verify-domain"} {
		resp := e.owner.post(path, map[string]any{"providerId": "acme"}).wantStatus(t, http.StatusNotFound)
		if len(resp.Body) != 0 {
			t.Errorf("%s body = %q, want none", path, resp.Body)
		}
	}
}
