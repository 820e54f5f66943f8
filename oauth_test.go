package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// oauthEnv is the sidecar with social providers, each backed by its own fake provider.
type oauthEnv struct {
	*testServer
	idps map[string]*fakeIdP
}

// providerProfilePath is where each built-in provider's fake serves the profile it reads.
var providerProfilePath = map[string]string{
	"github": "/user", "discord": "/users/@me", "gitlab": "/api/v4/user", "facebook": "/me", "microsoft": "/photo",
}

// newOAuthEnv starts a sidecar with the given providers; a provider id that is not built in is a
// generic OpenID provider found by discovery.
func newOAuthEnv(t *testing.T, providers []string, opts ...func(*config)) *oauthEnv {
	t.Helper()
	env := &oauthEnv{idps: map[string]*fakeIdP{}}
	var pcs []providerConfig
	for _, id := range providers {
		f := newFakeIdP(t, id+"-client", id+"-secret")
		env.idps[id] = f
		pc := providerConfig{ID: id, ClientID: f.clientID, ClientSecret: f.clientSecret, Endpoints: f.endpoints(providerProfilePath[id])}
		switch id {
		case "discord", "facebook":
			f.requirePKCE = false // upstream sends them no PKCE
		case "google":
			f.issuer = "https://accounts.google.com"
		case "apple":
			f.issuer = "https://appleid.apple.com"
		case "microsoft":
			pc.Authority, pc.Tenant = f.URL, "common"
		case "gitlab":
			pc.Issuer = f.URL
		case "github":
		default:
			pc = providerConfig{ID: id, ClientID: f.clientID, ClientSecret: f.clientSecret, Issuer: f.URL}
		}
		pcs = append(pcs, pc)
	}
	env.testServer = newTestServer(t, append([]func(*config){func(c *config) {
		c.OAuth.Providers = pcs
		for id, f := range env.idps {
			f.redirectURI = c.BaseURL + "/api/auth/callback/" + id
		}
	}}, opts...)...)
	return env
}

// startSocial posts to sign-in/social (or link-social) and returns the authorization URL.
func (c *testClient) startSocial(t *testing.T, path string, body map[string]any) string {
	t.Helper()
	resp := c.post(path, body).wantStatus(t, http.StatusOK)
	u, _ := resp.object(t)["url"].(string)
	if u == "" || resp.Header.Get("Location") != u {
		t.Fatalf("no authorization URL: %s %v", resp.Body, resp.Header)
	}
	return u
}

// callbackRequest is the request a browser makes to our callback after the provider.
type callbackRequest struct {
	method string
	path   string // relative to the sidecar
	form   string // a form post's body
}

// authorize visits the provider's authorization URL as a browser would.
func (e *oauthEnv) authorize(t *testing.T, authURL string) callbackRequest {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	switch {
	case resp.StatusCode == http.StatusFound:
		return callbackRequest{method: http.MethodGet, path: strings.TrimPrefix(resp.Header.Get("Location"), e.URL)}
	case resp.Header.Get("X-Form-Action") != "":
		return callbackRequest{method: http.MethodPost, path: strings.TrimPrefix(resp.Header.Get("X-Form-Action"), e.URL), form: body}
	}
	t.Fatalf("provider refused the authorization: %d %s", resp.StatusCode, body)
	return callbackRequest{}
}

// callback makes the callback request. A form post comes from the provider's page: cross-site,
// so the browser sends none of our SameSite=Lax cookies; it then follows our redirect to the GET.
func (c *testClient) callback(t *testing.T, cb callbackRequest) *testResponse {
	t.Helper()
	if cb.method == http.MethodPost {
		resp := c.do(http.MethodPost, cb.path, cb.form, "Content-Type", "application/x-www-form-urlencoded",
			"Origin", "https://appleid.apple.com", "Cookie", "").wantStatus(t, http.StatusFound)
		cb = callbackRequest{method: http.MethodGet, path: strings.TrimPrefix(resp.Header.Get("Location"), c.ts.URL)}
	}
	return c.get(cb.path)
}

// socialSignIn runs a whole redirect flow and returns the callback's answer.
func (e *oauthEnv) socialSignIn(t *testing.T, c *testClient, body map[string]any) *testResponse {
	t.Helper()
	return c.callback(t, e.authorize(t, c.startSocial(t, "/api/auth/sign-in/social", body)))
}

// wantRedirect fails unless resp is a 302 to location.
func (r *testResponse) wantRedirect(t *testing.T, location string) {
	t.Helper()
	r.wantStatus(t, http.StatusFound)
	if got := r.Header.Get("Location"); got != location {
		t.Fatalf("Location = %q, want %q", got, location)
	}
}

// wantOAuthError fails unless resp redirects to base with error=code.
func (r *testResponse) wantOAuthError(t *testing.T, base, code string) url.Values {
	t.Helper()
	r.wantStatus(t, http.StatusFound)
	loc := r.Header.Get("Location")
	b, query, _ := strings.Cut(loc, "?")
	q, _ := url.ParseQuery(query)
	if b != base || q.Get("error") != code {
		t.Fatalf("Location = %q, want %s?error=%s", loc, base, code)
	}
	return q
}

// sessionUser returns the signed-in user's email, or "" without a session.
func (c *testClient) sessionUser(t *testing.T) string {
	t.Helper()
	var s *authSession
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &s)
	if s == nil {
		return ""
	}
	return s.User.Email
}

type accountRecord struct {
	UserID, AccountID, Scope           string
	AccessToken, RefreshToken, IDToken *string
	AccessTokenExpiresAt               *time.Time
}

// account reads the account row of a provider account.
func (e *oauthEnv) account(t *testing.T, providerID, accountID string) *accountRecord {
	t.Helper()
	var a accountRecord
	var scope *string
	err := e.db.QueryRow(context.Background(), `SELECT "userId", "accountId", scope, "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt"
		FROM account WHERE "providerId" = $1 AND "accountId" = $2`, providerID, accountID).Scan(
		&a.UserID, &a.AccountID, &scope, &a.AccessToken, &a.RefreshToken, &a.IDToken, &a.AccessTokenExpiresAt)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	a.Scope = deref(scope)
	return &a
}

// TestEachProviderSignsInANewUserAsUpstreamMapsIt ensures every built-in provider, and a generic
// OpenID one, completes the redirect flow against a fake of its protocol and maps its profile to
// the new user the way upstream's provider does.
func TestEachProviderSignsInANewUserAsUpstreamMapsIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider      string
		user          fakeUser
		name          string
		emailVerified bool
		image         any
		accountID     string
		scope         string
	}{
		{provider: "github", user: fakeUser{Sub: "12345", Login: "octo", Email: "octo@example.com", EmailVerified: true, PrivateEmail: true, Picture: "https://avatars/x.png"},
			name: "octo", emailVerified: true, image: "https://avatars/x.png", accountID: "12345", scope: "read:user,user:email"},
		{provider: "google", user: fakeUser{Sub: "g-1", Name: "Gina", Email: "Gina@Example.com", EmailVerified: true, Picture: "https://g/p.png"},
			name: "Gina", emailVerified: true, image: "https://g/p.png", accountID: "g-1", scope: "email,profile,openid"},
		{provider: "microsoft", user: fakeUser{Sub: "ms-sub", Name: "Mia", Email: "mia@example.com", EmailVerified: true,
			Claims: map[string]any{"oid": "oid-1", "tid": "tenant-1"}},
			name: "Mia", emailVerified: true, image: "data:image/jpeg;base64, SlBFRw==", accountID: "oid-1", scope: "openid,profile,email,User.Read,offline_access"},
		{provider: "discord", user: fakeUser{Sub: "80351110224678912", Login: "nelly", Email: "nelly@example.com", EmailVerified: true},
			name: "nelly", emailVerified: true, image: "https://cdn.discordapp.com/embed/avatars/5.png", accountID: "80351110224678912", scope: "identify,email"},
		{provider: "gitlab", user: fakeUser{Sub: "77", Login: "gil", Name: "Gil", Email: "gil@example.com", EmailVerified: true, Picture: "https://gl/a.png"},
			name: "Gil", emailVerified: false, image: "https://gl/a.png", accountID: "77", scope: "read_user"},
		{provider: "facebook", user: fakeUser{Sub: "fb-1", Name: "Fay", Email: "fay@example.com", EmailVerified: true, Picture: "https://fb/p.png"},
			name: "Fay", emailVerified: false, image: "https://fb/p.png", accountID: "fb-1", scope: "email,public_profile"},
		{provider: "apple", user: fakeUser{Sub: "apple-1", Email: "ada@privaterelay.appleid.com", EmailVerified: true,
			AppleUser: `{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ada@privaterelay.appleid.com"}`},
			name: "Ada Lovelace", emailVerified: true, image: nil, accountID: "apple-1", scope: "email,name"},
		{provider: "acme", user: fakeUser{Sub: "acme-1", Name: "Ann", Email: "ann@example.com", EmailVerified: true, Picture: "https://acme/a.png"},
			name: "Ann", emailVerified: true, image: "https://acme/a.png", accountID: "acme-1", scope: "openid,email,profile"},
	}
	for _, tc := range tests {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			e := newOAuthEnv(t, []string{tc.provider})
			idp := e.idps[tc.provider]
			if tc.provider == "microsoft" {
				tc.user.Claims["iss"] = idp.URL + "/tenant-1/v2.0"
			}
			idp.signIn(tc.user)
			c := e.client(t)
			e.socialSignIn(t, c, map[string]any{"provider": tc.provider, "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}).
				wantRedirect(t, "/welcome")
			var s map[string]map[string]any
			c.get("/api/auth/get-session").wantStatus(t, http.StatusOK).decode(t, &s)
			u := s["user"]
			if got, want := u["email"], strings.ToLower(tc.user.Email); got != want {
				t.Errorf("email = %v, want %v", got, want)
			}
			if got := u["name"]; got != tc.name {
				t.Errorf("name = %v, want %v", got, tc.name)
			}
			if got := u["emailVerified"]; got != tc.emailVerified {
				t.Errorf("emailVerified = %v, want %v", got, tc.emailVerified)
			}
			if got := u["image"]; got != tc.image {
				t.Errorf("image = %v, want %v", got, tc.image)
			}
			a := e.account(t, tc.provider, tc.accountID)
			if a == nil {
				t.Fatalf("no %s account %s", tc.provider, tc.accountID)
			}
			if a.UserID != u["id"] || a.Scope != tc.scope || a.AccessToken == nil || a.RefreshToken == nil || a.AccessTokenExpiresAt == nil {
				t.Errorf("account = %+v, want the user's with scope %q and tokens", a, tc.scope)
			}
		})
	}
}

// TestSocialSignInStartsWithStateAndPKCE ensures sign-in/social answers like upstream: the
// provider URL with state, S256 challenge and the callback as redirect_uri, a signed state cookie
// that lives 300 s, and the state stored as auth-state:<state> with the PKCE verifier.
func TestSocialSignInStartsWithStateAndPKCE(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	c := e.client(t)
	resp := c.post("/api/auth/sign-in/social", map[string]any{"provider": "github", "callbackURL": "/dashboard", "loginHint": "octo", "scopes": []string{"repo"},
		"additionalParams": map[string]string{"allow_signup": "false"}, "additionalData": map[string]any{"plan": "pro", "callbackURL": "https://evil.example",
			"callbackurl": "https://evil.example", "Link": map[string]any{"userId": "victim", "email": "victim@example.com"}}}).
		wantStatus(t, http.StatusOK)
	var body struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}
	resp.decode(t, &body)
	u, err := url.Parse(body.URL)
	if err != nil || !body.Redirect || resp.Header.Get("Location") != body.URL {
		t.Fatalf("body = %s, Location = %q", resp.Body, resp.Header.Get("Location"))
	}
	q := u.Query()
	state := q.Get("state")
	want := map[string]string{
		"response_type": "code", "client_id": "github-client", "scope": "read:user user:email repo",
		"redirect_uri": e.URL + "/api/auth/callback/github", "code_challenge_method": "S256", "login_hint": "octo", "allow_signup": "false",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(state) != 32 || strings.Trim(state, defaultAlpha) != "" {
		t.Errorf("state = %q, want 32 characters of [a-zA-Z0-9_-]", state)
	}
	line := resp.setCookie("better-auth.state")
	if want := "better-auth.state=" + encodeURIComponent(e.sign(state)) + "; Max-Age=300; Path=/; HttpOnly; SameSite=Lax"; line != want {
		t.Errorf("Set-Cookie = %q, want %q", line, want)
	}
	v, err := e.findVerification(context.Background(), e.db, "auth-state:"+state)
	if err != nil || v == nil {
		t.Fatalf("no auth-state row: %v", err)
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(v.Value), &stored); err != nil {
		t.Fatal(err)
	}
	if stored["callbackURL"] != "/dashboard" || stored["oauthState"] != state || stored["plan"] != "pro" {
		t.Errorf("state row = %s", v.Value)
	}
	// The state is read back with encoding/json, which matches keys case-insensitively.
	if _, ok := stored["callbackurl"]; ok || stored["Link"] != nil {
		t.Errorf("additionalData set a state field in another case: %s", v.Value)
	}
	if got := pkceChallenge(stored["codeVerifier"].(string)); got != q.Get("code_challenge") {
		t.Errorf("code_challenge = %q, want S256 of the stored verifier (%q)", q.Get("code_challenge"), got)
	}
	if d := v.ExpiresAt.Sub(e.now()); d < 9*time.Minute || d > 10*time.Minute {
		t.Errorf("state row expires in %v, want 10 minutes", d)
	}
}

// TestSocialSignInRefusesBadRequests ensures the sign-in/social refusals match upstream's.
func TestSocialSignInRefusesBadRequests(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	c := e.client(t)
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"foreign callbackURL", map[string]any{"provider": "github", "callbackURL": "https://evil.example/x"}, 403, "INVALID_CALLBACK_URL"},
		{"protocol-relative callbackURL", map[string]any{"provider": "github", "callbackURL": "//evil.example"}, 403, "INVALID_CALLBACK_URL"},
		{"foreign errorCallbackURL", map[string]any{"provider": "github", "errorCallbackURL": "https://evil.example"}, 403, "INVALID_ERROR_CALLBACK_URL"},
		{"foreign newUserCallbackURL", map[string]any{"provider": "github", "newUserCallbackURL": "https://evil.example"}, 403, "INVALID_NEW_USER_CALLBACK_URL"},
		{"unknown provider", map[string]any{"provider": "myspace"}, 404, "PROVIDER_NOT_FOUND"},
		{"no provider", map[string]any{}, 400, "VALIDATION_ERROR"},
		{"reserved additionalParams", map[string]any{"provider": "github", "additionalParams": map[string]string{"redirect_uri": "https://evil.example"}}, 400, "VALIDATION_ERROR"},
		{"idToken without token", map[string]any{"provider": "github", "idToken": map[string]any{}}, 400, "VALIDATION_ERROR"},
		{"idToken at a provider without ID tokens", map[string]any{"provider": "github", "idToken": map[string]any{"token": "x.y.z"}}, 404, "ID_TOKEN_NOT_SUPPORTED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.post("/api/auth/sign-in/social", tc.body).wantError(t, tc.status, tc.code)
		})
	}
	if n := e.rowCount(t, "verification"); n != 0 {
		t.Errorf("%d verification rows after refused requests, want 0", n)
	}
}

// TestReturningUserSignsInToTheSameAccount ensures a second sign-in finds the user by the provider
// account, refreshes the stored tokens and redirects to callbackURL, not the new-user page.
func TestReturningUserSignsInToTheSameAccount(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	idp := e.idps["github"]
	idp.signIn(fakeUser{Sub: "12345", Login: "octo", Name: "Octo Cat", Email: "octo@example.com", EmailVerified: true})
	body := map[string]any{"provider": "github", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}
	e.socialSignIn(t, e.client(t), body).wantRedirect(t, "/welcome")
	first := e.account(t, "github", "12345")

	c := e.client(t)
	resp := e.socialSignIn(t, c, body)
	resp.wantRedirect(t, "/dashboard")
	if resp.setCookie("better-auth.state") != "better-auth.state=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax" {
		t.Errorf("state cookie not expired: %v", resp.Header.Values("Set-Cookie"))
	}
	if c.sessionUser(t) != "octo@example.com" {
		t.Fatal("no session after the second sign-in")
	}
	second := e.account(t, "github", "12345")
	if e.rowCount(t, "user") != 1 || e.rowCount(t, "account") != 1 || second.UserID != first.UserID {
		t.Fatalf("users %d, accounts %d: a returning user must reuse both", e.rowCount(t, "user"), e.rowCount(t, "account"))
	}
	if *second.AccessToken == *first.AccessToken {
		t.Error("access token not updated on sign-in")
	}
}

// TestProviderSignInLinksToExistingUser covers implicit account linking: it happens only when the
// provider vouches for the email (or is trusted) and the local user verified it too.
func TestProviderSignInLinksToExistingUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		localVerified bool
		idpVerified   bool
		trusted       bool
		linked        bool
	}{
		{"unverified at the provider is refused", true, false, false, false},
		{"unverified locally is refused", false, true, false, false},
		{"trusted provider without email_verified links", true, false, true, true},
		{"verified on both sides links", true, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newOAuthEnv(t, []string{"google"}, func(c *config) {
				if tc.trusted {
					c.OAuth.TrustedProviders = []string{"google"}
				}
			})
			local := e.client(t).signUp("gina@example.com", "password123", "Local Gina")
			if _, err := e.db.Exec(context.Background(), `UPDATE "user" SET "emailVerified" = $2 WHERE id = $1`, local["id"], tc.localVerified); err != nil {
				t.Fatal(err)
			}
			e.idps["google"].signIn(fakeUser{Sub: "g-1", Name: "Gina", Email: "GINA@example.com", EmailVerified: tc.idpVerified})
			c := e.client(t)
			resp := e.socialSignIn(t, c, map[string]any{"provider": "google", "callbackURL": "/dashboard", "errorCallbackURL": "/oops"})
			a := e.account(t, "google", "g-1")
			if !tc.linked {
				resp.wantOAuthError(t, "/oops", "account_not_linked")
				if a != nil || c.sessionUser(t) != "" {
					t.Fatal("refused link left an account or a session")
				}
				return
			}
			resp.wantRedirect(t, "/dashboard")
			if a == nil || a.UserID != local["id"] || c.sessionUser(t) != "gina@example.com" || e.rowCount(t, "user") != 1 {
				t.Fatalf("account %+v not linked to the local user %v", a, local["id"])
			}
		})
	}
}

// TestCallbackStateChecks ensures a callback whose state is missing, unknown, not this browser's,
// replayed or expired never signs anyone in, and says why where upstream does.
func TestCallbackStateChecks(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	e.idps["github"].signIn(fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com", EmailVerified: true})
	defaultErr := e.URL + "/api/auth/error"
	start := func(c *testClient) callbackRequest {
		return e.authorize(t, c.startSocial(t, "/api/auth/sign-in/social", map[string]any{"provider": "github", "callbackURL": "/dashboard", "errorCallbackURL": "/oops"}))
	}

	t.Run("missing state", func(t *testing.T) {
		e.client(t).get("/api/auth/callback/github?code=abc").wantOAuthError(t, defaultErr, "state_not_found")
	})
	t.Run("unknown state", func(t *testing.T) {
		e.client(t).get("/api/auth/callback/github?code=abc&state=nope").wantOAuthError(t, defaultErr, "state_mismatch")
	})
	t.Run("repeated state parameter", func(t *testing.T) {
		e.client(t).get("/api/auth/callback/github?code=abc&state=a&state=b").wantError(t, 400, "VALIDATION_ERROR")
	})
	t.Run("another browser's state", func(t *testing.T) {
		// Login CSRF: the attacker's callback URL opened in the victim's browser, which holds no
		// (or another) state cookie.
		cb := start(e.client(t))
		victim := e.client(t)
		start(victim)
		victim.callback(t, cb).wantOAuthError(t, "/oops", "state_mismatch")
		if victim.sessionUser(t) != "" {
			t.Fatal("signed in with another browser's state")
		}
	})
	t.Run("replayed state", func(t *testing.T) {
		c := e.client(t)
		cb := start(c)
		saved := c.cookies["better-auth.state"]
		c.callback(t, cb).wantRedirect(t, "/dashboard")
		c.cookies["better-auth.state"] = saved
		c.callback(t, cb).wantOAuthError(t, defaultErr, "state_mismatch")
	})
	t.Run("expired state", func(t *testing.T) {
		c := e.client(t)
		cb := start(c)
		state, _ := url.ParseQuery(strings.SplitN(cb.path, "?", 2)[1])
		if _, err := e.db.Exec(context.Background(), `UPDATE verification SET value = jsonb_set(value::jsonb, '{expiresAt}', '1')::text WHERE identifier = $1`,
			"auth-state:"+state.Get("state")); err != nil {
			t.Fatal(err)
		}
		c.callback(t, cb).wantOAuthError(t, "/oops", "state_mismatch")
	})
	t.Run("stored callbackURL no longer trusted", func(t *testing.T) {
		c := e.client(t)
		cb := start(c)
		state, _ := url.ParseQuery(strings.SplitN(cb.path, "?", 2)[1])
		if _, err := e.db.Exec(context.Background(), `UPDATE verification SET value = jsonb_set(value::jsonb, '{callbackURL}', '"https://evil.example"')::text WHERE identifier = $1`,
			"auth-state:"+state.Get("state")); err != nil {
			t.Fatal(err)
		}
		c.callback(t, cb).wantOAuthError(t, "/oops", "invalid_callback_url")
		if c.sessionUser(t) != "" {
			t.Fatal("signed in although the stored callbackURL is untrusted")
		}
	})
}

// TestCallbackProviderFailures ensures the provider's own error, a missing code, and a code
// injected from another authorization (whose PKCE challenge our verifier cannot answer) all end at
// the error URL with upstream's codes and no session.
func TestCallbackProviderFailures(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	idp := e.idps["github"]
	idp.signIn(fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com", EmailVerified: true})
	body := map[string]any{"provider": "github", "callbackURL": "/dashboard", "errorCallbackURL": "/oops?from=gh"}

	t.Run("access denied", func(t *testing.T) {
		c := e.client(t)
		authURL := c.startSocial(t, "/api/auth/sign-in/social", body)
		idp.mu.Lock()
		idp.denyNext = "access_denied"
		idp.mu.Unlock()
		q := c.callback(t, e.authorize(t, authURL)).wantOAuthError(t, "/oops", "access_denied")
		if q.Get("error_description") != "The user denied the request" || q.Get("from") != "gh" {
			t.Errorf("error query = %v", q)
		}
	})
	t.Run("no code", func(t *testing.T) {
		c := e.client(t)
		cb := e.authorize(t, c.startSocial(t, "/api/auth/sign-in/social", body))
		cb.path = strings.Replace(cb.path, "code=", "nocode=", 1)
		c.callback(t, cb).wantOAuthError(t, "/oops", "no_code")
	})
	t.Run("code injected from another authorization", func(t *testing.T) {
		attacker, victim := e.client(t), e.client(t)
		stolen := e.authorize(t, attacker.startSocial(t, "/api/auth/sign-in/social", body))
		own := e.authorize(t, victim.startSocial(t, "/api/auth/sign-in/social", body))
		code, _ := url.ParseQuery(strings.SplitN(stolen.path, "?", 2)[1])
		q, _ := url.ParseQuery(strings.SplitN(own.path, "?", 2)[1])
		q.Set("code", code.Get("code"))
		victim.get("/api/auth/callback/github?"+q.Encode()).wantOAuthError(t, "/oops", "invalid_code")
		if victim.sessionUser(t) != "" {
			t.Fatal("signed in with a code bound to another PKCE challenge")
		}
	})
	if n := e.rowCount(t, "session"); n != 0 {
		t.Errorf("%d sessions after failed callbacks, want 0", n)
	}
}

// TestCallbackStateRaceMakesOneSession ensures a state is used once even when 50 callbacks carry
// it at the same moment: exactly one of them signs in.
func TestCallbackStateRaceMakesOneSession(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"github"})
	e.idps["github"].signIn(fakeUser{Sub: "1", Login: "octo", Email: "octo@example.com", EmailVerified: true})
	c := e.client(t)
	cb := e.authorize(t, c.startSocial(t, "/api/auth/sign-in/social", map[string]any{"provider": "github", "callbackURL": "/dashboard"}))
	cookie := "better-auth.state=" + c.cookies["better-auth.state"]
	var wg sync.WaitGroup
	locations := make([]string, 50)
	for i := range locations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, e.URL+cb.path, nil)
			req.Header.Set("Cookie", cookie)
			resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			locations[i] = resp.Header.Get("Location")
		}()
	}
	wg.Wait()
	signedIn := 0
	for _, l := range locations {
		if l == "/dashboard" {
			signedIn++
		}
	}
	recordRace(t, "OAuth state", len(locations), signedIn, map[int]int{http.StatusFound: len(locations)})
	if n := slices.Index(locations, "/dashboard"); n < 0 || slices.Index(locations[n+1:], "/dashboard") >= 0 {
		t.Errorf("callbacks reaching /dashboard: want exactly one, got %q", locations)
	}
	if n := e.rowCount(t, "session"); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestAppleFormPostCallback ensures Apple's form_post answer is redirected to a GET (where the
// SameSite=Lax state cookie is sent), keeping the parameters in upstream's order.
func TestAppleFormPostCallback(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"apple"})
	c := e.client(t)
	resp := c.do(http.MethodPost, "/api/auth/callback/apple?iss=x", "code=abc&state=def&user=%7B%7D&id_token=t.t.t",
		"Content-Type", "application/x-www-form-urlencoded", "Origin", "https://appleid.apple.com", "Cookie", "")
	resp.wantRedirect(t, e.URL+"/api/auth/callback/apple?code=abc&state=def&user=%7B%7D&iss=x")
	c.do(http.MethodPost, "/api/auth/callback/apple", `{"code":1}`).wantError(t, 400, "VALIDATION_ERROR")
}

// TestIDTokenSignIn covers sign-in with an ID token the client got from the provider itself:
// accepted only when its signature, audience, issuer, age and nonce all hold.
func TestIDTokenSignIn(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"google"})
	idp := e.idps["google"]
	valid := func() map[string]any {
		return idp.idTokenClaims(fakeUser{Sub: "g-7", Name: "Gus", Email: "gus@example.com", EmailVerified: true}, "n-1")
	}
	otherKey := newFakeIdP(t, "x", "y")
	tests := []struct {
		name  string
		token func() string
		nonce string
	}{
		{"wrong audience", func() string { c := valid(); c["aud"] = "someone-else"; return idp.mint(c) }, "n-1"},
		{"wrong issuer", func() string { c := valid(); c["iss"] = "https://evil.example"; return idp.mint(c) }, "n-1"},
		{"expired", func() string { c := valid(); c["exp"] = time.Now().Add(-time.Minute).Unix(); return idp.mint(c) }, "n-1"},
		{"issued over an hour ago", func() string { c := valid(); c["iat"] = time.Now().Add(-2 * time.Hour).Unix(); return idp.mint(c) }, "n-1"},
		{"bad signature", func() string {
			// Signed by another key under the kid of the provider's own.
			return signJWT(t, otherKey.keys[0].key, idp.keys[0].kid, valid())
		}, "n-1"},
		{"nonce mismatch", func() string { return idp.mint(valid()) }, "n-2"},
		{"not a JWT", func() string { return "opaque-token" }, ""},
	}
	c := e.client(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": tc.token(), "nonce": tc.nonce}}).
				wantError(t, 401, "INVALID_TOKEN")
		})
	}
	if e.rowCount(t, "user") != 0 {
		t.Fatal("a refused ID token created a user")
	}

	t.Run("valid", func(t *testing.T) {
		token := idp.mint(valid())
		resp := c.post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": token, "nonce": "n-1", "accessToken": "ya29"}}).
			wantStatus(t, http.StatusOK)
		var body struct {
			Redirect bool            `json:"redirect"`
			Token    string          `json:"token"`
			User     map[string]any  `json:"user"`
			URL      json.RawMessage `json:"url"`
		}
		resp.decode(t, &body)
		if body.Redirect || body.Token == "" || body.User["email"] != "gus@example.com" || body.URL != nil {
			t.Fatalf("body = %s", resp.Body)
		}
		if c.sessionUser(t) != "gus@example.com" {
			t.Fatal("no session cookie after ID token sign-in")
		}
		a := e.account(t, "google", "g-7")
		if a == nil || deref(a.IDToken) != token || deref(a.AccessToken) != "ya29" || a.RefreshToken != nil {
			t.Fatalf("account = %+v", a)
		}
	})
	t.Run("signed by a rotated-in key", func(t *testing.T) {
		idp.rotateKey() // the verifier has the old key set cached and must fetch the new one
		claims := valid()
		claims["sub"], claims["email"] = "g-8", "gail@example.com"
		c2 := e.client(t)
		c2.post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": idp.mint(claims), "nonce": "n-1"}}).
			wantStatus(t, http.StatusOK)
	})
	t.Run("unverified email of an existing user", func(t *testing.T) {
		claims := valid()
		claims["sub"], claims["email_verified"] = "g-9", false
		e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": idp.mint(claims), "nonce": "n-1"}}).
			wantError(t, 401, "OAUTH_LINK_ERROR")
	})
}

// TestGenericOIDCProvider ensures a provider found by discovery gets a nonce-bound ID token
// verified against its JWKS, checks the iss callback parameter, and that sign-out returns its
// end-session URL.
func TestGenericOIDCProvider(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"acme"})
	idp := e.idps["acme"]
	idp.signIn(fakeUser{Sub: "acme-1", Name: "Ann", Email: "ann@example.com", EmailVerified: true})
	c := e.client(t)
	authURL := c.startSocial(t, "/api/auth/sign-in/social", map[string]any{"provider": "acme", "callbackURL": "/dashboard"})
	u, _ := url.Parse(authURL)
	if u.Query().Get("nonce") == "" || u.Query().Get("scope") != "openid email profile" {
		t.Fatalf("authorization URL lacks nonce or the default scopes: %s", authURL)
	}

	t.Run("issuer mismatch", func(t *testing.T) {
		c2 := e.client(t)
		cb := e.authorize(t, c2.startSocial(t, "/api/auth/sign-in/social", map[string]any{"provider": "acme", "callbackURL": "/dashboard"}))
		cb.path = strings.Replace(cb.path, "iss="+url.QueryEscape(idp.URL), "iss="+url.QueryEscape("https://evil.example"), 1)
		c2.callback(t, cb).wantOAuthError(t, e.URL+"/api/auth/error", "issuer_mismatch")
	})

	c.callback(t, e.authorize(t, authURL)).wantRedirect(t, "/dashboard")
	a := e.account(t, "acme", "acme-1")
	if a == nil || a.IDToken == nil {
		t.Fatal("no account with an ID token")
	}
	resp := c.post("/api/auth/sign-out", map[string]any{"callbackURL": "/bye", "state": "s1"}).wantStatus(t, http.StatusOK)
	var out struct {
		Success  bool   `json:"success"`
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}
	resp.decode(t, &out)
	logout, _ := url.Parse(out.URL)
	q := logout.Query()
	if !out.Success || !out.Redirect || resp.Header.Get("Location") != out.URL || logout.Path != "/logout" ||
		q.Get("id_token_hint") != *a.IDToken || q.Get("post_logout_redirect_uri") != e.URL+"/bye" || q.Get("client_id") != "acme-client" || q.Get("state") != "s1" {
		t.Fatalf("sign-out = %s", resp.Body)
	}
	if c.sessionUser(t) != "" {
		t.Fatal("session survived sign-out")
	}
}

// TestIDTokenNonceIsBoundForGenericProviders ensures the callback refuses an ID token that does
// not carry the nonce of its own authorization request (a token replayed from another flow).
func TestIDTokenNonceIsBoundForGenericProviders(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"acme"})
	idp := e.idps["acme"]
	idp.signIn(fakeUser{Sub: "acme-1", Email: "ann@example.com", EmailVerified: true})
	c := e.client(t)
	authURL := c.startSocial(t, "/api/auth/sign-in/social", map[string]any{"provider": "acme", "callbackURL": "/dashboard"})
	// The provider sees another nonce than the one stored with our state.
	authURL = strings.Replace(authURL, "nonce=", "nonce=replayed", 1)
	c.callback(t, e.authorize(t, authURL)).wantOAuthError(t, e.URL+"/api/auth/error", "unable_to_get_user_info")
	if n := e.rowCount(t, "session"); n != 0 {
		t.Fatalf("%d sessions, want 0", n)
	}
}

// TestIDTokenSignInProviderRules covers the provider-specific ID token rules: Apple's hashed
// nonce, Microsoft's tenant binding on the multi-tenant endpoint, and Facebook's opaque tokens,
// which are proven with debug_token instead of a signature.
func TestIDTokenSignInProviderRules(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"apple", "microsoft", "facebook"})
	apple, ms, fb := e.idps["apple"], e.idps["microsoft"], e.idps["facebook"]
	appleClaims := apple.idTokenClaims(fakeUser{Sub: "a-1", Email: "ada@example.com", EmailVerified: true}, pkceHex("n-1"))
	msClaims := func(tid, iss string) map[string]any {
		return ms.idTokenClaims(fakeUser{Sub: "m", Email: "mia@example.com", EmailVerified: true,
			Claims: map[string]any{"oid": "oid-" + tid, "tid": tid, "iss": iss}}, "")
	}
	fb.mu.Lock()
	fb.access["fb-access"] = fakeUser{Sub: "fb-1", Name: "Fay", Email: "fay@example.com"}
	fb.mu.Unlock()
	tests := []struct {
		name     string
		provider string
		idToken  map[string]any
		status   int
	}{
		{"apple nonce as its SHA-256", "apple", map[string]any{"token": apple.mint(appleClaims), "nonce": "n-1"}, 200},
		{"apple other nonce", "apple", map[string]any{"token": apple.mint(appleClaims), "nonce": "n-2"}, 401},
		{"microsoft token of its own tenant", "microsoft", map[string]any{"token": ms.mint(msClaims("t-1", ms.URL+"/t-1/v2.0"))}, 200},
		{"microsoft issuer of another tenant", "microsoft", map[string]any{"token": ms.mint(msClaims("t-2", ms.URL+"/t-3/v2.0"))}, 401},
		{"facebook opaque token proven by debug_token", "facebook", map[string]any{"token": "opaque", "accessToken": "fb-access"}, 200},
		{"facebook opaque token of no access token", "facebook", map[string]any{"token": "opaque"}, 401},
		{"facebook access token of another app", "facebook", map[string]any{"token": "opaque", "accessToken": "unknown"}, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": tc.provider, "idToken": tc.idToken})
			resp.wantStatus(t, tc.status)
		})
	}
}

func pkceHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestMicrosoftTenantCheck ensures a Microsoft ID token must name its own tenant as issuer and
// belong to the configured account class.
func TestMicrosoftTenantCheck(t *testing.T) {
	t.Parallel()
	const authority = "https://login.microsoftonline.com"
	tests := []struct {
		tenant, tid, iss string
		ok               bool
	}{
		{"common", "t-1", authority + "/t-2/v2.0", false}, // issuer of another tenant
		{"common", "", authority + "//v2.0", false},
		{"organizations", microsoftConsumerTenant, authority + "/" + microsoftConsumerTenant + "/v2.0", false},
		{"consumers", "t-1", authority + "/t-1/v2.0", false},
		{"t-1", "t-2", authority + "/t-2/v2.0", false},
		{"common", "t-1", authority + "/t-1/v2.0", true},
		{"organizations", "t-1", authority + "/t-1/v2.0", true},
		{"consumers", microsoftConsumerTenant, authority + "/" + microsoftConsumerTenant + "/v2.0", true},
		{"t-1", "t-1", authority + "/t-1/v2.0", true},
	}
	for _, tc := range tests {
		if got := microsoftTenantCheck(authority, tc.tenant)(map[string]any{"tid": tc.tid, "iss": tc.iss}); got != tc.ok {
			t.Errorf("tenant %s, tid %q, iss %q: ok = %v, want %v", tc.tenant, tc.tid, tc.iss, got, tc.ok)
		}
	}
}

// TestGenericProviderDiscoveryIsRetried ensures an OpenID provider that is down at first becomes
// usable once its discovery answers, without a restart.
func TestGenericProviderDiscoveryIsRetried(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, []string{"acme"})
	idp := e.idps["acme"]
	idp.discoveryDown.Store(true)
	c := e.client(t)
	c.post("/api/auth/sign-in/social", map[string]any{"provider": "acme"}).wantError(t, 404, "PROVIDER_NOT_FOUND")
	idp.discoveryDown.Store(false)
	// Within the retry pause the provider stays unknown, without another discovery.
	c.post("/api/auth/sign-in/social", map[string]any{"provider": "acme"}).wantError(t, 404, "PROVIDER_NOT_FOUND")
	e.clock.advance(discoveryRetryAfter)
	c.post("/api/auth/sign-in/social", map[string]any{"provider": "acme"}).wantStatus(t, http.StatusOK)
}

// TestLinkSessionKeyIsUpstreams ensures the key sealing a link flow's session token is upstream's
// derivePurposeKey(secret, "oauth-link-session-token"), so that either server can finish a link
// the other started. The value was computed by better-auth 1.7.25 for testSecret.
func TestLinkSessionKeyIsUpstreams(t *testing.T) {
	t.Parallel()
	s := &server{cfg: config{Secret: testSecret}}
	if got, want := s.linkSessionKey(), "96b99a0c9ef49660ed0b2b26df8655529a5efa458d95aaca5c50f6bd520093c2"; got != want {
		t.Fatalf("linkSessionKey = %s, want %s", got, want)
	}
}

// TestAuthorizationURLParameterOrder ensures authorization URLs carry their parameters in the
// order upstream's createAuthorizationURL sets them, additional ones replacing a known one in
// place, so the URL a client sees is upstream's URL.
func TestAuthorizationURLParameterOrder(t *testing.T) {
	t.Parallel()
	base := func() authParams {
		return authParams{{"response_type", "code"}, {"client_id", "cid"}, {"state", "st"}, {"scope", "read_user api"}, {"redirect_uri", "https://app.example/api/auth/callback/x"}}
	}
	tests := []struct {
		name     string
		endpoint string
		set      [][2]string
		want     string
	}{
		{"pkce and login hint", "https://idp.example/authorize", [][2]string{{"login_hint", "a@b.co"}, {"code_challenge_method", "S256"}, {"code_challenge", "ch"}},
			"https://idp.example/authorize?response_type=code&client_id=cid&state=st&scope=read_user+api&redirect_uri=https%3A%2F%2Fapp.example%2Fapi%2Fauth%2Fcallback%2Fx&login_hint=a%40b.co&code_challenge_method=S256&code_challenge=ch"},
		{"a known parameter is replaced where it stands", "https://idp.example/authorize", [][2]string{{"prompt", "none"}, {"include_granted_scopes", "true"}, {"response_type", "code id_token"}, {"prompt", "consent"}},
			"https://idp.example/authorize?response_type=code+id_token&client_id=cid&state=st&scope=read_user+api&redirect_uri=https%3A%2F%2Fapp.example%2Fapi%2Fauth%2Fcallback%2Fx&prompt=consent&include_granted_scopes=true"},
		{"empty values are left out; an endpoint's own query stays first", "https://idp.example/authorize?tenant=t1", [][2]string{{"login_hint", ""}, {"nonce", "n"}},
			"https://idp.example/authorize?tenant=t1&response_type=code&client_id=cid&state=st&scope=read_user+api&redirect_uri=https%3A%2F%2Fapp.example%2Fapi%2Fauth%2Fcallback%2Fx&nonce=n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := base()
			for _, kv := range tt.set {
				ps.set(kv[0], kv[1])
			}
			if got := ps.url(tt.endpoint); got != tt.want {
				t.Fatalf("url =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
