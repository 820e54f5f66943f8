package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/hkdf"
	"golang.org/x/oauth2"
)

// Social sign-in (upstream packages/better-auth/src/api/routes/sign-in.ts, signInSocial;
// packages/better-auth/src/api/routes/callback.ts, callbackOAuth;
// packages/better-auth/src/oauth2/): the redirect flow with state and PKCE, the callback that turns
// a provider's answer into a session, sign-in with a provider's ID token, and the account creation
// and linking rules both share.

const (
	cookieOAuthState    = "state"
	oauthStateTTL       = 10 * time.Minute // the verification row and the state's own expiresAt
	oauthStateCookieAge = 300              // seconds, as upstream's state cookie
	// accessTokenRefreshMargin: a token this close to expiry is refreshed before it is handed out.
	accessTokenRefreshMargin = 5 * time.Second
)

var (
	errProviderNotFound    = apiErr(404, "PROVIDER_NOT_FOUND", "Provider not found")
	errIDTokenNotSupported = apiErr(404, "ID_TOKEN_NOT_SUPPORTED", "id_token not supported")
	errInvalidIDToken      = apiErr(401, "INVALID_TOKEN", "Invalid token")
	errFailedUserInfo      = apiErr(401, "FAILED_TO_GET_USER_INFO", "Failed to get user info")
	errUserEmailNotFound   = apiErr(401, "USER_EMAIL_NOT_FOUND", "User email not found")
	errCallbackURLRequired = apiErr(400, "CALLBACK_URL_REQUIRED", "callbackURL is required")
	errReservedAuthParams  = validationError("[body.additionalParams] additionalParams cannot include reserved OAuth parameters: " + strings.Join(reservedAuthParams, ", "))
)

// reservedAuthParams are the authorization parameters a client's additionalParams may not set:
// overriding them would break the binding of the callback to this request (state, PKCE, nonce)
// or send the code elsewhere (redirect_uri).
var reservedAuthParams = []string{"state", "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "nonce", "scope"}

// callbackFailure is an outcome that ends a provider callback, social or SSO, at the flow's error
// URL as ?error=code&error_description=description: upstream's internal outcomes of a sign-in
// ("account not linked") and the SSO plugin's coded ones. Code below the callback returns it as
// an error; the callback turns it into the redirect through callbackFailureOf and its fail
// function (openCallbackState), the one path such errors take, as JSON errors take writeError.
type callbackFailure struct{ code, description string }

func (f *callbackFailure) Error() string {
	if f.description == "" {
		return f.code
	}
	return f.code + ": " + f.description
}

// signInOutcome is one of upstream's string outcomes of a provider sign-in.
func signInOutcome(code string) error { return &callbackFailure{code: code} }

// callbackFailureOf is the failure err carries; any other error is logged and becomes
// internal_server_error, since the browser must still land on a page.
func callbackFailureOf(ctx context.Context, err error, provider string) *callbackFailure {
	var f *callbackFailure
	if errors.As(err, &f) {
		return f
	}
	// An APIError with a code, such as the admin plugin's BANNED_USER, ends at the error URL with
	// its code and message (upstream: api/routes/callback.ts, redirectOnError).
	var ae *apiError
	if errors.As(err, &ae) && ae.Code != "" {
		return &callbackFailure{code: ae.Code, description: ae.Message}
	}
	slog.ErrorContext(ctx, "provider callback failed", "provider", provider, "err", err)
	return &callbackFailure{code: "internal_server_error"}
}

// oauthLink is the state of a link-social flow: who asked, and the session they asked from.
type oauthLink struct {
	UserID                string `json:"userId"`
	Email                 string `json:"email"`
	EncryptedSessionToken string `json:"encryptedSessionToken,omitempty"`
}

// oauthState is the JSON stored under auth-state:<state> (upstream
// packages/better-auth/src/oauth2/state.ts, generateState), readable by either server.
type oauthState struct {
	CallbackURL  string     `json:"callbackURL"`
	CodeVerifier string     `json:"codeVerifier"`
	ErrorURL     string     `json:"errorURL,omitempty"`
	NewUserURL   string     `json:"newUserURL,omitempty"`
	Link         *oauthLink `json:"link,omitempty"`
	// ServerContext is what the server itself attached to the flow, never the request.
	ServerContext *oauthServerContext `json:"serverContext,omitempty"`
	ExpiresAt     int64               `json:"expiresAt"`
	RequestSignUp *bool               `json:"requestSignUp,omitempty"`
	IDTokenNonce  string              `json:"idTokenNonce,omitempty"`
	OAuthState    string              `json:"oauthState,omitempty"`
}

// oauthServerContext is upstream's serverContext: enterprise SSO pins the provider configuration a
// flow started with, so that a callback after the provider changed is refused.
type oauthServerContext struct {
	SSOProviderReference *ssoProviderReference `json:"ssoProviderReference,omitempty"`
}

// oauthStateKeys are the keys additionalData may not set: upstream's stateDataSchema keys.
var oauthStateKeys = []string{"callbackURL", "codeVerifier", "errorURL", "newUserURL", "link", "serverContext", "expiresAt", "requestSignUp", "idTokenNonce", "oauthState"}

// socialStartBody holds the fields sign-in/social and link-social share.
type socialStartBody struct {
	Provider         any               `json:"provider" nullable:"true"`
	CallbackURL      string            `json:"callbackURL"`
	ErrorCallbackURL string            `json:"errorCallbackURL"`
	DisableRedirect  bool              `json:"disableRedirect"`
	IDToken          *idTokenBody      `json:"idToken"`
	Scopes           []string          `json:"scopes"`
	RequestSignUp    *bool             `json:"requestSignUp"`
	LoginHint        string            `json:"loginHint"`
	AdditionalParams map[string]string `json:"additionalParams"`
	AdditionalData   map[string]any    `json:"additionalData"`
	// NewUserCallbackURL is sign-in/social's only; link-social refuses it.
	NewUserCallbackURL *string `json:"newUserCallbackURL"`
}

// idTokenBody is a client's proof of a provider sign-in it did itself (Google One Tap, Sign in
// with Apple on iOS, …).
type idTokenBody struct {
	Token        *string  `json:"token"`
	Nonce        string   `json:"nonce"`
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	ExpiresAt    *float64 `json:"expiresAt"` // accepted as upstream's schema does, and unused there too
	User         *struct {
		Name *struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
		Email string `json:"email"`
	} `json:"user"`
}

// decodeSocialStart decodes a sign-in/social or link-social body and applies the parts of
// upstream's schema the decoder cannot express. It returns the body and the provider id.
func (s *server) decodeSocialStart(r *http.Request) (*socialStartBody, string, error) {
	var b socialStartBody
	if err := s.decode(r, &b, jsonOnly); err != nil {
		return nil, "", err
	}
	provider, ok := b.Provider.(string)
	if !ok {
		return nil, "", validationError("[body.provider] Invalid input")
	}
	if b.IDToken != nil && b.IDToken.Token == nil {
		return nil, "", validationError("[body.idToken.token] Invalid input: expected string, received undefined")
	}
	for k := range b.AdditionalParams {
		if slices.Contains(reservedAuthParams, k) {
			return nil, "", errReservedAuthParams
		}
	}
	return &b, provider, nil
}

func (s *server) handleSignInSocial(w http.ResponseWriter, r *http.Request) error {
	body, providerID, err := s.decodeSocialStart(r)
	if err != nil {
		return err
	}
	p, err := s.socialProvider(r.Context(), providerID)
	if err != nil {
		return err
	}
	if body.IDToken != nil {
		return s.signInWithIDToken(w, r, p, body.IDToken, body.RequestSignUp)
	}
	return s.redirectToProvider(w, r, p, body, nil)
}

// socialProvider is the configured provider a sign-in or link names, or errProviderNotFound.
func (s *server) socialProvider(ctx context.Context, providerID string) (*oauthProvider, error) {
	p := s.providers.get(ctx, providerID)
	if p == nil {
		return nil, errProviderNotFound
	}
	return p, nil
}

// redirectToProvider starts the redirect flow (link set when it links to a signed-in user) and
// answers the provider's authorization URL.
func (s *server) redirectToProvider(w http.ResponseWriter, r *http.Request, p *oauthProvider, body *socialStartBody, link *oauthLink) error {
	authURL, err := s.startOAuth(w, r, p, body, link, nil)
	if err != nil {
		return err
	}
	writeAuthorizationURL(w, authURL, body.DisableRedirect)
	return nil
}

func writeAuthorizationURL(w http.ResponseWriter, authURL string, disableRedirect bool) {
	if !disableRedirect {
		w.Header().Set("Location", authURL)
	}
	writeJSON(w, http.StatusOK, struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}{authURL, !disableRedirect})
}

// startOAuth stores the state of a redirect flow and returns the provider's authorization URL:
// a random state in a verification row and in a signed cookie (so the callback must come back to
// the browser that started it), a PKCE verifier, and a nonce where the provider binds ID tokens.
// serverContext, when not nil, rides along in the state (enterprise SSO's provider reference).
func (s *server) startOAuth(w http.ResponseWriter, r *http.Request, p *oauthProvider, body *socialStartBody, link *oauthLink, serverContext *oauthServerContext) (string, error) {
	callbackURL := body.CallbackURL
	if callbackURL == "" {
		callbackURL = s.cfg.BaseURL
	}
	if callbackURL == "" {
		return "", errCallbackURLRequired
	}
	state := randomString(32, defaultAlpha)
	st := oauthState{
		CallbackURL:   callbackURL,
		CodeVerifier:  randomString(128, defaultAlpha),
		ErrorURL:      body.ErrorCallbackURL,
		NewUserURL:    deref(body.NewUserCallbackURL),
		Link:          link,
		ServerContext: serverContext,
		ExpiresAt:     s.now().Add(oauthStateTTL).UnixMilli(),
		RequestSignUp: body.RequestSignUp,
		OAuthState:    state,
	}
	if p.nonce {
		st.IDTokenNonce = randomString(32, defaultAlpha)
	}
	value, err := encodeOAuthState(st, body.AdditionalData)
	if err != nil {
		return "", err
	}
	if err := s.createVerification(r.Context(), s.db, "auth-state:"+state, value, s.now().Add(oauthStateTTL)); err != nil {
		return "", err
	}
	s.setSignedCookie(w, cookieOAuthState, state, cookieOpts{maxAge: oauthStateCookieAge})

	params := authParams{
		{"response_type", "code"},
		{"client_id", p.oauth.ClientID},
		{"state", state},
		{"scope", strings.Join(p.scopes(body.Scopes), " ")},
		{"redirect_uri", s.oauthRedirectURI(r, p)},
	}
	if p.loginHint {
		params.set("login_hint", body.LoginHint)
	}
	params.set("nonce", st.IDTokenNonce)
	params.set("prompt", p.authParams["prompt"])
	params.set("response_mode", p.authParams["response_mode"])
	if p.pkce {
		params.set("code_challenge_method", "S256")
		params.set("code_challenge", oauth2.S256ChallengeFromVerifier(st.CodeVerifier))
	}
	// Then the provider's other fixed parameters and the client's additionalParams, which replace
	// one of the above in place when they name it, as URLSearchParams.set does.
	for _, extra := range []map[string]string{p.authParams, body.AdditionalParams} {
		for _, k := range slices.Sorted(maps.Keys(extra)) {
			params.set(k, extra[k])
		}
	}
	return params.url(p.oauth.Endpoint.AuthURL), nil
}

// authParams are an authorization request's query parameters in the order upstream's
// createAuthorizationURL sets them. Providers do not care about the order, but a URL that a
// client, proxy or test compares with upstream's is then the same URL.
type authParams [][2]string

// set replaces the value of name where it stands, or appends it; an empty value sets nothing.
func (ps *authParams) set(name, value string) {
	if value == "" {
		return
	}
	for i := range *ps {
		if (*ps)[i][0] == name {
			(*ps)[i][1] = value
			return
		}
	}
	*ps = append(*ps, [2]string{name, value})
}

// url appends the parameters to the endpoint, form-encoded as URLSearchParams encodes them.
func (ps authParams) url(endpoint string) string {
	var b strings.Builder
	b.WriteString(endpoint)
	sep := byte('?')
	if strings.Contains(endpoint, "?") {
		sep = '&'
	}
	for _, kv := range ps {
		if kv[1] == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1]))
		sep = '&'
	}
	return b.String()
}

// encodeOAuthState writes the state with additionalData's keys at the top level, as upstream
// spreads them; the state's own keys always win.
func encodeOAuthState(st oauthState, additional map[string]any) (string, error) {
	own, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("encode oauth state: %w", err)
	}
	if len(additional) == 0 {
		return string(own), nil
	}
	merged := map[string]any{}
	for k, v := range additional {
		// encoding/json matches keys case-insensitively when the state is read back, so
		// "LINK" or "callbackurl" would set the state's own fields.
		if !slices.ContainsFunc(oauthStateKeys, func(own string) bool { return strings.EqualFold(own, k) }) {
			merged[k] = v
		}
	}
	if err := json.Unmarshal(own, &merged); err != nil {
		return "", fmt.Errorf("encode oauth state: %w", err)
	}
	b, err := json.Marshal(merged)
	if err != nil {
		return "", fmt.Errorf("encode oauth state: %w", err)
	}
	return string(b), nil
}

func (s *server) oauthRedirectURI(r *http.Request, p *oauthProvider) string {
	if p.redirectURI != "" {
		return p.redirectURI
	}
	return s.baseURL(r) + "/callback/" + p.id
}

// providerHTTP is the client for p's token endpoint: its own when it has one.
func (s *server) providerHTTP(p *oauthProvider) *http.Client {
	if p.client != nil {
		return p.client
	}
	return s.providerClient
}

func (s *server) defaultErrorURL(r *http.Request) string {
	if s.cfg.ErrorURL != "" {
		return s.cfg.ErrorURL
	}
	return s.baseURL(r) + "/error"
}

// callbackParams are the callback's query (or form post) fields.
type callbackParams struct {
	Code             string `json:"code"`
	Error            string `json:"error"`
	DeviceID         string `json:"device_id"`
	ErrorDescription string `json:"error_description"`
	State            string `json:"state"`
	User             string `json:"user"`
	Iss              string `json:"iss"`
	// IDToken is posted by Apple next to the code; the code exchange gives it to us again.
	IDToken string `json:"id_token"`
}

// callbackKeys lists callbackParams in upstream's schema order, which the form-post redirect keeps.
var callbackKeys = []string{"code", "error", "device_id", "error_description", "state", "user", "iss"}

func (p *callbackParams) field(key string) *string {
	switch key {
	case "code":
		return &p.Code
	case "error":
		return &p.Error
	case "device_id":
		return &p.DeviceID
	case "error_description":
		return &p.ErrorDescription
	case "state":
		return &p.State
	case "user":
		return &p.User
	case "iss":
		return &p.Iss
	}
	return nil
}

// readCallbackQuery reads the known callback parameters; a repeated one is refused as upstream's
// query schema does. Other parameters (scope, authuser, session_state, …) are ignored.
func readCallbackQuery(r *http.Request) (callbackParams, error) {
	var p callbackParams
	q := r.URL.Query()
	for _, k := range callbackKeys {
		switch vs := q[k]; len(vs) {
		case 0:
		case 1:
			*p.field(k) = vs[0]
		default:
			return callbackParams{}, validationError("[query." + k + "] Invalid input: expected string, received array")
		}
	}
	return p, nil
}

// handleOAuthCallback is where the provider sends the browser back (upstream
// packages/better-auth/src/api/routes/callback.ts, callbackOAuth). A form post (Apple's
// response_mode=form_post) is turned into a GET first: the state cookie is SameSite=Lax, so the
// browser only sends it on the top-level GET that follows.
func (s *server) handleOAuthCallback(w http.ResponseWriter, r *http.Request) error {
	providerID := r.PathValue("id")
	q, err := readCallbackQuery(r)
	if err != nil {
		return err
	}
	if r.Method == http.MethodPost {
		return s.redirectFormPost(w, r, providerID, q)
	}
	st, fail, err := s.openCallbackState(w, r, q.State)
	if st == nil || err != nil {
		return err
	}
	switch {
	case q.Error != "":
		return fail(q.Error, q.ErrorDescription)
	case q.Code == "":
		return fail("no_code", "")
	}
	p := s.providers.get(r.Context(), providerID)
	if p == nil {
		return fail("oauth_provider_not_found", "")
	}
	// RFC 9207: an iss naming another issuer means the code came from a mix-up attack.
	if q.Iss != "" && p.issuer != "" && q.Iss != p.issuer {
		return fail("issuer_mismatch", "")
	}
	if p.nonce && st.IDTokenNonce == "" {
		return fail("nonce_binding_missing", "")
	}
	tokens, err := s.exchangeCode(r.Context(), r, p, q.Code, st.CodeVerifier)
	if err != nil {
		slog.WarnContext(r.Context(), "oauth code exchange failed", "provider", p.id, "err", err)
		return fail("invalid_code", "")
	}
	tokens.Nonce = st.IDTokenNonce
	if q.User != "" {
		_ = json.Unmarshal([]byte(q.User), &tokens.User) // upstream's safeJSONParse: a bad value is ignored
	}
	profile, err := p.profile(r.Context(), tokens)
	if err != nil || !profile.usable(tokens) {
		slog.WarnContext(r.Context(), "oauth user info failed", "provider", p.id, "err", err)
		return fail("unable_to_get_user_info", "")
	}
	acct := oauthAccount{providerID: p.id, accountID: profile.AccountID, tokens: tokens, scope: strings.Join(tokens.Scopes, ","),
		trusted: s.providerTrusted(p.id), noSignUp: p.refusesSignUp(st.RequestSignUp)}
	if st.Link != nil {
		if err := s.linkProviderAccount(r.Context(), st.Link, profile, acct); err != nil {
			return fail(failureCode(r.Context(), p, err), "")
		}
		redirect(w, st.CallbackURL)
		return nil
	}
	if profile.Email == "" {
		return fail("email_not_found", "")
	}
	res, err := s.signInWithProvider(r.Context(), r, profile, acct, nil)
	if err != nil {
		f := callbackFailureOf(r.Context(), err, p.id)
		return fail(strings.ReplaceAll(f.code, " ", "_"), f.description)
	}
	s.finishProviderSignIn(w, r, st, res)
	return nil
}

// finishProviderSignIn sets the new session's cookie and sends the browser on: to the flow's
// newUserURL after a sign-up when it has one, else to its callbackURL.
func (s *server) finishProviderSignIn(w http.ResponseWriter, r *http.Request, st *oauthState, res *oauthSignIn) {
	s.resetSessionCookie(w, r, &res.as)
	target := st.CallbackURL
	if res.isRegister && st.NewUserURL != "" {
		target = st.NewUserURL
	}
	redirect(w, target)
}

// redirectFormPost turns a form-post callback into the GET the rest of the flow expects, the
// query winning over the body as upstream merges them.
func (s *server) redirectFormPost(w http.ResponseWriter, r *http.Request, providerID string, q callbackParams) error {
	var body callbackParams
	if err := s.decode(r, &body, formAllowed); err != nil {
		return err
	}
	params := make([]string, 0, len(callbackKeys))
	for _, k := range callbackKeys {
		v := *q.field(k)
		if v == "" {
			v = *body.field(k)
		}
		if v != "" {
			params = append(params, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	redirect(w, s.baseURL(r)+"/callback/"+url.PathEscape(providerID)+"?"+strings.Join(params, "&"))
	return nil
}

// failureCode is the error code a failed social callback redirects with: upstream writes its
// outcomes with spaces as underscores there.
func failureCode(ctx context.Context, p *oauthProvider, err error) string {
	return strings.ReplaceAll(callbackFailureOf(ctx, err, p.id).code, " ", "_")
}

func redirectWithError(w http.ResponseWriter, base, code, description string) {
	params := url.Values{"error": {code}}
	if description != "" {
		params.Set("error_description", description)
	}
	redirect(w, appendQuery(base, params))
}

// openCallbackState checks and uses up a callback's state (consumeOAuthState). When the state is
// missing or unusable it has redirected to the error URL already and returns no state; otherwise
// it returns the state and fail, which ends the callback at the flow's error URL.
func (s *server) openCallbackState(w http.ResponseWriter, r *http.Request, state string) (*oauthState, func(code, description string) error, error) {
	if state == "" {
		redirectWithError(w, s.defaultErrorURL(r), "state_not_found", "")
		return nil, nil, nil
	}
	st, errorURL, failure, err := s.consumeOAuthState(w, r, state)
	if err != nil {
		return nil, nil, err
	}
	fail := func(code, description string) error {
		redirectWithError(w, errorURL, code, description)
		return nil
	}
	if failure != "" {
		return nil, nil, fail(failure, "")
	}
	return st, fail, nil
}

// consumeOAuthState checks the callback's state as upstream's parseGenericState does, and uses it
// up: the verification row is deleted in the statement that reads it, so of two callbacks with
// the same state only one gets past here. It returns the state, the error URL for what follows,
// and a failure code when the state is unusable.
//
// The row is consumed only when the signed state cookie matches: a forged callback from another
// browser (login CSRF) fails without burning the state of the user's own sign-in.
func (s *server) consumeOAuthState(w http.ResponseWriter, r *http.Request, state string) (*oauthState, string, string, error) {
	errorURL := s.defaultErrorURL(r)
	cookie, ok := s.signedCookie(r, cookieOAuthState)
	cookieMatches := ok && hmac.Equal([]byte(cookie), []byte(state))
	var v *verification
	var err error
	if cookieMatches {
		v, err = s.consumeVerification(r.Context(), s.db, "auth-state:"+state)
	} else {
		v, err = s.findVerification(r.Context(), s.db, "auth-state:"+state)
	}
	if err != nil {
		return nil, "", "", err
	}
	if v == nil {
		return nil, errorURL, "state_mismatch", nil
	}
	var st oauthState
	if err := json.Unmarshal([]byte(v.Value), &st); err != nil || st.CallbackURL == "" || st.CodeVerifier == "" {
		slog.ErrorContext(r.Context(), "unreadable oauth state", "err", err)
		return nil, errorURL, "internal_server_error", nil
	}
	// Every URL was checked against the trusted origins when the flow started; they are checked
	// again because the row may have been written by another server or before TRUSTED_ORIGINS
	// changed, and a redirect must never leave the trusted origins.
	if st.ErrorURL != "" && s.isTrustedURL(r, st.ErrorURL, true) {
		errorURL = st.ErrorURL
	}
	switch {
	case st.OAuthState != "" && !hmac.Equal([]byte(st.OAuthState), []byte(state)), !cookieMatches:
		return nil, errorURL, "state_mismatch", nil
	}
	s.expireCookie(w, cookieOAuthState)
	if st.ExpiresAt < s.now().UnixMilli() {
		return nil, errorURL, "state_mismatch", nil
	}
	if !s.isTrustedURL(r, st.CallbackURL, true) || st.NewUserURL != "" && !s.isTrustedURL(r, st.NewUserURL, true) {
		return nil, errorURL, "invalid_callback_url", nil
	}
	return &st, errorURL, "", nil
}

// exchangeCode trades the authorization code for tokens at the provider's token endpoint, with
// the PKCE verifier where the provider takes one.
func (s *server) exchangeCode(ctx context.Context, r *http.Request, p *oauthProvider, code, verifier string) (providerTokens, error) {
	conf := p.oauth
	conf.RedirectURL = s.oauthRedirectURI(r, p)
	var opts []oauth2.AuthCodeOption
	if p.pkce {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := conf.Exchange(withProviderClient(ctx, s.providerHTTP(p)), code, opts...)
	if err != nil {
		return providerTokens{}, err
	}
	return s.tokensFrom(tok), nil
}

// refreshTokens uses a refresh token at the provider's token endpoint.
func (s *server) refreshTokens(ctx context.Context, p *oauthProvider, refreshToken string) (providerTokens, error) {
	tok, err := p.oauth.TokenSource(withProviderClient(ctx, s.providerHTTP(p)), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return providerTokens{}, err
	}
	return s.tokensFrom(tok), nil
}

// tokensFrom reads a token response; expiries are counted from our clock, like every other time.
func (s *server) tokensFrom(tok *oauth2.Token) providerTokens {
	t := providerTokens{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	now := s.now()
	if sec := tokenSeconds(tok, "expires_in"); sec > 0 {
		at := now.Add(time.Duration(sec) * time.Second)
		t.AccessTokenExpiresAt = &at
	}
	if sec := tokenSeconds(tok, "refresh_token_expires_in"); sec > 0 {
		at := now.Add(time.Duration(sec) * time.Second)
		t.RefreshTokenExpiresAt = &at
	}
	t.IDToken, _ = tok.Extra("id_token").(string)
	t.Scopes = parseScopeField(tok.Extra("scope"))
	return t
}

// tokenSeconds reads a seconds field of a JSON or form-encoded token response.
func tokenSeconds(tok *oauth2.Token, name string) int64 {
	switch v := tok.Extra(name).(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// parseScopeField reads a token response's scope, a space-separated string (RFC 6749 section 3.3) or,
// from some providers, an array.
func parseScopeField(v any) []string {
	var out []string
	switch s := v.(type) {
	case string:
		out = strings.Fields(s)
	case []any:
		for _, e := range s {
			if str, ok := e.(string); ok && strings.TrimSpace(str) != "" {
				out = append(out, strings.TrimSpace(str))
			}
		}
	}
	return out
}

// oauthAccount is the account row a provider sign-in creates or refreshes.
type oauthAccount struct {
	providerID string
	accountID  string
	tokens     providerTokens
	scope      string // comma-joined; "" stores NULL
	// trusted links the account to an existing user with this email even when the provider did
	// not say the email is verified: a social provider named in ACCOUNT_LINKING_TRUSTED_PROVIDERS,
	// or an SSO provider whose domain is verified and covers the email.
	trusted bool
	// noSignUp refuses to create a user for the account ("signup disabled", upstream's disableSignUp).
	noSignUp bool
}

type oauthSignIn struct {
	as         authSession
	isRegister bool
}

// signInWithProvider is upstream's handleOAuthUserInfo (upstream
// packages/better-auth/src/oauth2/link-account.ts): the user who owns this provider account, else
// the user with this email when linking is allowed, else a new user; then a new session. It runs in
// one transaction. Outcomes upstream reports as strings are signInOutcomes. then, when not nil,
// runs in that transaction once the user is known, before the session is made (enterprise SSO
// provisions the user into its organization there).
func (s *server) signInWithProvider(ctx context.Context, r *http.Request, profile *providerProfile, acct oauthAccount,
	then func(ctx context.Context, tx pgx.Tx, res *oauthSignIn) error) (*oauthSignIn, error) {
	var res oauthSignIn
	email := strings.ToLower(profile.Email)
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		accountRowID, owner, err := s.lockProviderAccount(ctx, tx, acct)
		if err != nil {
			return err
		}
		switch {
		case owner != nil:
			res.as.User = *owner
			if err := s.refreshAccountTokens(ctx, tx, accountRowID, acct, nil); err != nil {
				return err
			}
		default:
			existing, err := s.userByEmail(ctx, tx, email)
			if err != nil {
				return err
			}
			if existing != nil {
				// Implicit linking (upstream's defaults, requireLocalEmailVerified on): both sides must
				// vouch for the email, or an attacker who registers the victim's address at a lax
				// provider (or here, unverified) would take over the other account.
				linking := s.cfg.OAuth.Linking
				if !acct.trusted && !profile.EmailVerified || !linking.LocalEmailUnverified && !existing.EmailVerified ||
					linking.Disabled || linking.DisableImplicitLinking {
					return signInOutcome("account not linked")
				}
				res.as.User = *existing
			} else {
				if acct.noSignUp {
					return signInOutcome("signup disabled")
				}
				noteSignUp(ctx)
				res.as.User, err = s.insertUser(ctx, tx, profile.Name, email, profile.EmailVerified, profile.Image)
				if errors.Is(err, errUserExistsUseAnother) {
					return signInOutcome("unable to create user")
				}
				if err != nil {
					return err
				}
				res.isRegister = true
			}
			if err := s.insertProviderAccount(ctx, tx, res.as.User.ID, acct); err != nil {
				return err
			}
		}
		if profile.EmailVerified && !res.as.User.EmailVerified && email == res.as.User.Email {
			if _, err := s.markEmailVerified(ctx, tx, res.as.User.ID, false, &res.as.User); err != nil {
				return err
			}
		}
		if then != nil {
			if err := then(ctx, tx, &res); err != nil {
				return err
			}
		}
		res.as.Session, err = s.createSession(ctx, tx, r, res.as.User.ID, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func (s *server) providerTrusted(providerID string) bool {
	return slices.Contains(s.cfg.OAuth.TrustedProviders, providerID)
}

// lockProviderAccount finds the account row of a provider account and its owner, after taking a
// transaction lock on the pair: the account table has no unique key on (providerId, accountId),
// so without the lock two concurrent first sign-ins could both insert it.
func (s *server) lockProviderAccount(ctx context.Context, tx pgx.Tx, acct oauthAccount) (string, *user, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`, acct.providerID, acct.accountID); err != nil {
		return "", nil, fmt.Errorf("lock provider account: %w", err)
	}
	var id string
	var u user
	err := tx.QueryRow(ctx, `SELECT a.id, `+s.userColumns+` FROM account a JOIN "user" u ON u.id = a."userId"
		WHERE a."providerId" = $1 AND a."accountId" = $2 ORDER BY a."createdAt" LIMIT 1`,
		acct.providerID, acct.accountID).Scan(append([]any{&id}, u.scanTargets()...)...)
	if isNoRows(err) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("find provider account: %w", err)
	}
	return id, &u, nil
}

func (s *server) insertProviderAccount(ctx context.Context, q querier, userID string, acct oauthAccount) error {
	access, refresh, err := s.sealTokens(acct.tokens)
	if err != nil {
		return err
	}
	now := s.now()
	_, err = q.Exec(ctx, `INSERT INTO account (id, "accountId", "providerId", "userId", "accessToken", "refreshToken", "idToken",
			"accessTokenExpiresAt", "refreshTokenExpiresAt", scope, "createdAt", "updatedAt")
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
		generateID(32), acct.accountID, acct.providerID, userID, access, refresh, nullIfEmpty(acct.tokens.IDToken),
		acct.tokens.AccessTokenExpiresAt, acct.tokens.RefreshTokenExpiresAt, nullIfEmpty(acct.scope), now)
	if err != nil {
		return fmt.Errorf("create account: %w", err)
	}
	return nil
}

// refreshAccountTokens stores the tokens a sign-in brought, keeping the stored value of any the
// provider did not send. scope is changed only when given (link-social), as upstream leaves it
// alone on sign-in.
func (s *server) refreshAccountTokens(ctx context.Context, q querier, accountRowID string, acct oauthAccount, scope *string) error {
	access, refresh, err := s.sealTokens(acct.tokens)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `UPDATE account SET
			"accessToken" = COALESCE($2, "accessToken"),
			"refreshToken" = COALESCE($3, "refreshToken"),
			"idToken" = COALESCE($4, "idToken"),
			"accessTokenExpiresAt" = COALESCE($5, "accessTokenExpiresAt"),
			"refreshTokenExpiresAt" = COALESCE($6, "refreshTokenExpiresAt"),
			scope = COALESCE($7, scope),
			"updatedAt" = $8
		WHERE id = $1`,
		accountRowID, access, refresh, nullIfEmpty(acct.tokens.IDToken), acct.tokens.AccessTokenExpiresAt,
		acct.tokens.RefreshTokenExpiresAt, scope, s.now())
	if err != nil {
		return fmt.Errorf("update account tokens: %w", err)
	}
	return nil
}

// sealTokens returns the access and refresh tokens as stored: NULL when absent, encrypted with
// upstream's symmetricEncrypt when ENCRYPT_OAUTH_TOKENS is on.
func (s *server) sealTokens(t providerTokens) (access, refresh *string, err error) {
	if access, err = s.sealToken(t.AccessToken); err != nil {
		return nil, nil, err
	}
	if refresh, err = s.sealToken(t.RefreshToken); err != nil {
		return nil, nil, err
	}
	return access, refresh, nil
}

func (s *server) sealToken(token string) (*string, error) {
	if token == "" {
		return nil, nil
	}
	if !s.cfg.OAuth.EncryptTokens {
		return &token, nil
	}
	sealed, err := s.symmetricEncrypt(token)
	if err != nil {
		return nil, err
	}
	return &sealed, nil
}

// openToken reads a stored token as upstream's decryptOAuthToken: with encryption on, a value
// that looks encrypted (even-length hex) is decrypted, anything else was stored before encryption
// was turned on and is returned as it is.
func (s *server) openToken(stored string) (string, error) {
	if !s.cfg.OAuth.EncryptTokens || stored == "" || len(stored)%2 != 0 {
		return stored, nil
	}
	if _, err := hex.DecodeString(stored); err != nil {
		return stored, nil
	}
	return s.symmetricDecrypt(stored)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// signInWithIDToken signs in with a provider's ID token the client obtained itself (upstream
// signInSocial with idToken).
func (s *server) signInWithIDToken(w http.ResponseWriter, r *http.Request, p *oauthProvider, body *idTokenBody, requestSignUp *bool) error {
	noteAuthMethod(r, "social")
	profile, tokens, err := s.idTokenProfile(r.Context(), p, body)
	if err != nil {
		return err
	}
	// Upstream stores the access token and the ID token of a direct sign-in, not the refresh token.
	acct := oauthAccount{providerID: p.id, accountID: profile.AccountID,
		tokens: providerTokens{AccessToken: tokens.AccessToken, IDToken: tokens.IDToken}, trusted: s.providerTrusted(p.id),
		noSignUp: p.refusesSignUp(requestSignUp)}
	res, err := s.signInWithProvider(r.Context(), r, profile, acct, nil)
	if err != nil {
		var f *callbackFailure
		if !errors.As(err, &f) {
			return err
		}
		return apiErr(401, "OAUTH_LINK_ERROR", f.code)
	}
	s.resetSessionCookie(w, r, &res.as)
	writeJSON(w, http.StatusOK, struct {
		Redirect bool   `json:"redirect"`
		Token    string `json:"token"`
		User     user   `json:"user"`
	}{false, res.as.Session.Token, res.as.User})
	return nil
}

// idTokenProfile verifies a client's ID token (signature against the provider's JWKS, issuer,
// audience, age, nonce) and reads the user from it.
func (s *server) idTokenProfile(ctx context.Context, p *oauthProvider, body *idTokenBody) (*providerProfile, providerTokens, error) {
	if p.idToken == nil {
		return nil, providerTokens{}, errIDTokenNotSupported
	}
	raw := *body.Token
	tokens := providerTokens{IDToken: raw, AccessToken: body.AccessToken, RefreshToken: body.RefreshToken}
	if u := body.User; u != nil {
		tokens.User = map[string]any{"email": u.Email}
		if u.Name != nil {
			tokens.User["name"] = map[string]any{"firstName": u.Name.FirstName, "lastName": u.Name.LastName}
		}
	}
	var claims map[string]any
	if !p.opaqueIDTokens || strings.Count(raw, ".") == 2 {
		var err error
		if claims, err = p.idToken.verify(ctx, raw, body.Nonce, s.now()); err != nil {
			slog.InfoContext(ctx, "id token refused", "provider", p.id, "err", err)
			return nil, tokens, errInvalidIDToken
		}
		// Ours: a token bound to a nonce needs that nonce (verify checks it when one is sent;
		// upstream accepts such a token without it, so a stolen one works).
		if body.Nonce == "" && claimString(claims, "nonce") != "" {
			return nil, tokens, errInvalidIDToken
		}
	}
	var profile *providerProfile
	var err error
	if p.profileFromIDToken != nil {
		profile, err = p.profileFromIDToken(ctx, claims)
	} else {
		profile, err = p.profile(ctx, tokens)
	}
	if err != nil {
		slog.InfoContext(ctx, "id token user info failed", "provider", p.id, "err", err)
		return nil, tokens, errFailedUserInfo
	}
	if profile.Email == "" {
		return nil, tokens, errUserEmailNotFound
	}
	if !profile.usable(tokens) {
		return nil, tokens, errFailedUserInfo
	}
	if err := s.consumeIDToken(ctx, raw, claims); err != nil {
		return nil, tokens, err
	}
	return profile, tokens, nil
}

// linkSessionKey is upstream's derivePurposeKey(secret, "oauth-link-session-token"): the key that
// seals the linking session's token inside the OAuth state.
func (s *server) linkSessionKey() string {
	key := make([]byte, 32)
	r := hkdf.New(sha256.New, []byte(s.cfg.Secret), []byte("better-auth:oauth-encryption:v1"), []byte("better-auth:oauth-link-session-token:v1"))
	if _, err := io.ReadFull(r, key); err != nil {
		panic("hkdf: " + err.Error()) // cannot fail for 32 bytes of SHA-256
	}
	return hex.EncodeToString(key)
}

// linkProviderAccount is upstream's linkOAuthAccount (upstream
// packages/better-auth/src/oauth2/link-account.ts), for a link-social redirect flow.
func (s *server) linkProviderAccount(ctx context.Context, link *oauthLink, profile *providerProfile, acct oauthAccount) error {
	// The session that asked for the link must still be live: signing out (or revoking it)
	// between the start and the callback cancels the link.
	if link.EncryptedSessionToken != "" {
		token, err := decryptWithKey(s.linkSessionKey(), link.EncryptedSessionToken)
		if err != nil {
			return signInOutcome("unable_to_link_account")
		}
		as, err := s.findSession(ctx, token)
		if err != nil {
			return err
		}
		if as == nil || as.Session.UserID != link.UserID || !as.Session.ExpiresAt.Time().After(s.now()) {
			return signInOutcome("unable_to_link_account")
		}
	}
	if !s.providerTrusted(acct.providerID) && !profile.EmailVerified || s.cfg.OAuth.Linking.Disabled {
		return signInOutcome("unable_to_link_account")
	}
	if !strings.EqualFold(profile.Email, link.Email) && !s.cfg.OAuth.Linking.AllowDifferentEmails {
		return signInOutcome("email_does_not_match")
	}
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		accountRowID, owner, err := s.lockProviderAccount(ctx, tx, acct)
		if err != nil {
			return err
		}
		if owner == nil {
			return s.insertProviderAccount(ctx, tx, link.UserID, acct)
		}
		if owner.ID != link.UserID {
			return signInOutcome("account_already_linked_to_different_user")
		}
		var stored *string
		if err := tx.QueryRow(ctx, `SELECT scope FROM account WHERE id = $1`, accountRowID).Scan(&stored); err != nil {
			return fmt.Errorf("read account scope: %w", err)
		}
		merged := mergeScopes(stored, acct.tokens.Scopes)
		return s.refreshAccountTokens(ctx, tx, accountRowID, acct, nullIfEmpty(merged))
	})
}

// mergeScopes is the union of the stored (comma-joined) and new scopes, stored ones first.
func mergeScopes(stored *string, incoming []string) string {
	var out []string
	if stored != nil {
		out = splitList(*stored)
	}
	for _, sc := range incoming {
		if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ",")
}

// providerLogoutURL is the RP-initiated logout URL (OpenID Connect RP-Initiated Logout 1.0) of the
// user's most recently updated account at a provider that has one, or "" (upstream
// packages/better-auth/src/api/routes/sign-out.ts, signOut).
func (s *server) providerLogoutURL(ctx context.Context, r *http.Request, userID, callbackURL, state string) string {
	providers := s.providers.all()
	rows, err := s.db.Query(ctx, `SELECT "providerId", "idToken" FROM account WHERE "userId" = $1 ORDER BY "updatedAt" DESC`, userID)
	if err != nil {
		slog.ErrorContext(ctx, "find accounts for provider logout", "err", err)
		return ""
	}
	defer rows.Close()
	for rows.Next() {
		var providerID string
		var idToken *string
		if err := rows.Scan(&providerID, &idToken); err != nil {
			slog.ErrorContext(ctx, "find accounts for provider logout", "err", err)
			return ""
		}
		p := providers[providerID]
		if p == nil || p.endSession == "" {
			continue
		}
		u, err := url.Parse(p.endSession)
		if err != nil {
			continue
		}
		q := u.Query()
		if idToken != nil {
			q.Set("id_token_hint", *idToken)
		}
		if callbackURL != "" {
			base, _ := url.Parse(s.baseURL(r))
			target, err := base.Parse(callbackURL)
			if err != nil {
				continue
			}
			q.Set("post_logout_redirect_uri", target.String())
			q.Set("client_id", p.oauth.ClientID)
			if state != "" {
				q.Set("state", state)
			}
		} else if idToken == nil {
			q.Set("client_id", p.oauth.ClientID)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	return ""
}
