package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fakeIdP is an identity provider speaking real OAuth 2 and OpenID Connect over HTTP: authorize,
// token (authorization code and refresh), the profile endpoints of each built-in provider,
// discovery, userinfo and a JWKS with a real RSA key. It checks what a real provider checks: the
// client's credentials, the redirect URI registered for the client (at authorize and again at the
// token endpoint), that a code is used once, and the PKCE verifier against the challenge of the
// authorization request.
type fakeIdP struct {
	t            testing.TB
	srv          *httptest.Server
	URL          string
	clientID     string
	clientSecret string
	redirectURI  string // the only redirect URI registered for the client
	requirePKCE  bool

	mu       sync.Mutex
	keys     []fakeKey // the JWKS; the last one signs
	user     fakeUser  // who signs in at the next authorization
	issuer   string    // the iss of minted ID tokens
	denyNext string    // the next authorization answers with this error (access_denied)
	grants   map[string]fakeGrant
	access   map[string]fakeUser // issued access tokens
	refresh  map[string]fakeUser // issued refresh tokens
	expires  int                 // expires_in of issued access tokens
	// tamper, when set, changes the claims of the ID tokens the token endpoint issues; a key it
	// returns signs them in place of the current one (a key the JWKS does not hold).
	tamper func(claims map[string]any) *fakeKey

	tokenCalls    atomic.Int32
	refreshCalls  atomic.Int32
	discoveryDown atomic.Bool // discovery answers 503, as an identity provider that is down
}

type fakeKey struct {
	kid string
	key *rsa.PrivateKey
}

// fakeUser is the provider-side user; every profile endpoint renders it in its provider's shape.
type fakeUser struct {
	Sub           string // numeric for GitHub and GitLab
	Login         string
	Name          string
	Email         string
	EmailVerified bool
	Picture       string
	PrivateEmail  bool           // GitHub: /user hides the email, /user/emails has it
	AppleUser     string         // Apple: the user JSON posted with the first authorization
	Claims        map[string]any // extra ID token and userinfo claims (Microsoft's oid, tid)
}

type fakeGrant struct {
	user         fakeUser
	redirectURI  string
	challenge    string
	nonce        string
	scope        string
	responseType string
}

func newFakeIdP(t testing.TB, clientID, clientSecret string) *fakeIdP {
	t.Helper()
	f := &fakeIdP{
		t: t, clientID: clientID, clientSecret: clientSecret, requirePKCE: true,
		grants: map[string]fakeGrant{}, access: map[string]fakeUser{}, refresh: map[string]fakeUser{}, expires: 3600,
	}
	f.rotateKey()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", f.handleAuthorize)
	mux.HandleFunc("POST /token", f.handleToken)
	mux.HandleFunc("GET /jwks", f.handleJWKS)
	mux.HandleFunc("GET /.well-known/openid-configuration", f.handleDiscovery)
	mux.HandleFunc("GET /user", f.profile(f.githubUser))
	mux.HandleFunc("GET /user/emails", f.profile(f.githubEmails))
	mux.HandleFunc("GET /users/@me", f.profile(f.discordUser))
	mux.HandleFunc("GET /api/v4/user", f.profile(f.gitlabUser))
	mux.HandleFunc("GET /me", f.profile(f.facebookUser))
	mux.HandleFunc("GET /userinfo", f.profile(f.userinfo))
	mux.HandleFunc("GET /photo", f.handlePhoto)
	mux.HandleFunc("GET /debug_token", f.handleDebugToken)
	mux.HandleFunc("GET /logout", func(w http.ResponseWriter, r *http.Request) {})
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	f.issuer = f.URL
	t.Cleanup(f.srv.Close)
	return f
}

// signIn sets the user who authenticates at the next authorization.
func (f *fakeIdP) signIn(u fakeUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.user = u
}

// rotateKey adds a new signing key; the old ones stay in the JWKS, as during a real rotation.
func (f *fakeIdP) rotateKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, fakeKey{kid: generateID(8), key: key})
}

func (f *fakeIdP) endpoints(userInfoPath string) providerEndpoints {
	return providerEndpoints{
		Authorize: f.URL + "/authorize", Token: f.URL + "/token", UserInfo: f.URL + userInfoPath,
		Emails: f.URL + "/user/emails", JWKS: f.URL + "/jwks", DebugToken: f.URL + "/debug_token",
	}
}

func fakeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (f *fakeIdP) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.clientID || q.Get("redirect_uri") != f.redirectURI {
		fakeError(w, http.StatusBadRequest, "invalid_request") // never redirect to an unregistered URI
		return
	}
	challenge := q.Get("code_challenge")
	if f.requirePKCE && (challenge == "" || q.Get("code_challenge_method") != "S256") {
		fakeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	f.mu.Lock()
	params := url.Values{"state": {q.Get("state")}, "iss": {f.issuer}}
	if f.denyNext != "" {
		params.Set("error", f.denyNext)
		params.Set("error_description", "The user denied the request")
		f.denyNext = ""
	} else {
		code := generateID(24)
		f.grants[code] = fakeGrant{user: f.user, redirectURI: q.Get("redirect_uri"), challenge: challenge, nonce: q.Get("nonce"),
			scope: q.Get("scope"), responseType: q.Get("response_type")}
		params.Set("code", code)
		if f.user.AppleUser != "" {
			params.Set("user", f.user.AppleUser)
		}
	}
	f.mu.Unlock()
	if q.Get("response_mode") == "form_post" {
		// What a browser would post from the provider's auto-submitting form.
		w.Header().Set("X-Form-Action", f.redirectURI)
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		w.Write([]byte(params.Encode()))
		return
	}
	http.Redirect(w, r, f.redirectURI+"?"+params.Encode(), http.StatusFound)
}

func (f *fakeIdP) handleToken(w http.ResponseWriter, r *http.Request) {
	f.tokenCalls.Add(1)
	if err := r.ParseForm(); err != nil {
		fakeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != f.clientID || secret != f.clientSecret {
		fakeError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var u fakeUser
	var g fakeGrant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		var ok bool
		g, ok = f.grants[code]
		delete(f.grants, code) // a code works once
		if !ok || r.PostForm.Get("redirect_uri") != g.redirectURI {
			fakeError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		if g.challenge != "" && pkceChallenge(r.PostForm.Get("code_verifier")) != g.challenge {
			fakeError(w, http.StatusBadRequest, "invalid_grant") // RFC 7636 section 4.6
			return
		}
		u = g.user
	case "refresh_token":
		f.refreshCalls.Add(1)
		var ok bool
		u, ok = f.refresh[r.PostForm.Get("refresh_token")]
		if !ok {
			fakeError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		g.scope = "openid"
	default:
		fakeError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	access, refresh := "at-"+generateID(16), "rt-"+generateID(16)
	f.access[access], f.refresh[refresh] = u, u
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": f.expires, "refresh_token": refresh, "scope": g.scope}
	if strings.Contains(" "+g.scope+" ", " openid ") || strings.Contains(g.responseType, "id_token") {
		claims := f.idTokenClaims(u, g.nonce)
		var key *fakeKey
		if f.tamper != nil {
			key = f.tamper(claims)
		}
		if key != nil {
			resp["id_token"] = signJWT(f.t, key.key, key.kid, claims)
		} else {
			resp["id_token"] = f.mintLocked(claims)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// idTokenClaims are the claims of an ID token for u, valid now for an hour.
func (f *fakeIdP) idTokenClaims(u fakeUser, nonce string) map[string]any {
	now := time.Now()
	c := map[string]any{
		"iss": f.issuer, "sub": u.Sub, "aud": f.clientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": u.Email, "email_verified": u.EmailVerified, "name": u.Name, "picture": u.Picture,
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	for k, v := range u.Claims {
		c[k] = v
	}
	return c
}

// mint signs claims with the current key.
func (f *fakeIdP) mint(claims map[string]any) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mintLocked(claims)
}

func (f *fakeIdP) mintLocked(claims map[string]any) string {
	k := f.keys[len(f.keys)-1]
	return signJWT(f.t, k.key, k.kid, claims)
}

func signJWT(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fakeIdP) handleJWKS(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	var set jose.JSONWebKeySet
	for _, k := range f.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: "RS256", Use: "sig"})
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(set)
}

func (f *fakeIdP) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if f.discoveryDown.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer": f.URL, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
		"userinfo_endpoint": f.URL + "/userinfo", "jwks_uri": f.URL + "/jwks", "end_session_endpoint": f.URL + "/logout",
		"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"},
	})
}

// profile serves a bearer-protected profile endpoint.
func (f *fakeIdP) profile(render func(u fakeUser, r *http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		u, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		if !ok {
			fakeError(w, http.StatusUnauthorized, "invalid_token")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(render(u, r))
	}
}

func (f *fakeIdP) githubUser(u fakeUser, r *http.Request) any {
	var email any = u.Email
	if u.PrivateEmail {
		email = nil
	}
	return map[string]any{"id": json.Number(u.Sub), "login": u.Login, "name": nilIfEmpty(u.Name), "email": email, "avatar_url": u.Picture}
}

func (f *fakeIdP) githubEmails(u fakeUser, r *http.Request) any {
	return []map[string]any{
		{"email": "old-" + u.Email, "primary": false, "verified": true, "visibility": nil},
		{"email": u.Email, "primary": true, "verified": u.EmailVerified, "visibility": "private"},
	}
}

func (f *fakeIdP) discordUser(u fakeUser, r *http.Request) any {
	return map[string]any{"id": u.Sub, "username": u.Login, "global_name": nilIfEmpty(u.Name), "avatar": nil, "discriminator": "0",
		"email": u.Email, "verified": u.EmailVerified}
}

func (f *fakeIdP) gitlabUser(u fakeUser, r *http.Request) any {
	return map[string]any{"id": json.Number(u.Sub), "username": u.Login, "name": u.Name, "email": u.Email, "avatar_url": u.Picture,
		"state": "active", "locked": false}
}

func (f *fakeIdP) facebookUser(u fakeUser, r *http.Request) any {
	return map[string]any{"id": u.Sub, "name": u.Name, "email": u.Email, "picture": map[string]any{"data": map[string]any{"url": u.Picture}}}
}

func (f *fakeIdP) userinfo(u fakeUser, r *http.Request) any {
	c := map[string]any{"sub": u.Sub, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name, "picture": u.Picture}
	for k, v := range u.Claims {
		c[k] = v
	}
	return c
}

func (f *fakeIdP) handlePhoto(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	_, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Write([]byte("JPEG"))
}

// handleDebugToken is Facebook's token inspection: the app proves itself with id|secret.
func (f *fakeIdP) handleDebugToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("access_token") != f.clientID+"|"+f.clientSecret {
		fakeError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	f.mu.Lock()
	u, ok := f.access[q.Get("input_token")]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"is_valid": ok, "app_id": f.clientID, "user_id": u.Sub}})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
