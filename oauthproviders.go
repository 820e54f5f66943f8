package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Social providers (upstream packages/core/src/social-providers/): what each one's
// authorization URL carries, how its tokens are fetched, and how its profile becomes a user.

// oauthConfig is the social sign-in configuration.
type oauthConfig struct {
	Providers        []providerConfig
	TrustedProviders []string // account linking trusts these providers' emails without email_verified
	EncryptTokens    bool     // store provider access and refresh tokens encrypted (upstream's encryptOAuthTokens)
	Linking          accountLinking
}

// accountLinking is upstream's account.accountLinking beyond trustedProviders; the zero value is
// upstream's defaults.
type accountLinking struct {
	Disabled               bool // enabled: false: no provider account joins an existing user
	AllowDifferentEmails   bool // link-social may link an account whose email is not the user's
	LocalEmailUnverified   bool // requireLocalEmailVerified: false: implicit linking to an unverified user
	DisableImplicitLinking bool // only link-social links; sign-in never joins an existing user
	AllowUnlinkingAll      bool // unlink-account may remove the last account
}

// providerConfig configures one provider. A generic OpenID provider is any ID with an Issuer that
// is not one of the built-in providers.
type providerConfig struct {
	ID           string
	ClientID     string
	ClientSecret string
	Scopes       []string // requested on top of the provider's defaults
	Issuer       string   // generic OIDC: the issuer to discover; GitLab: a self-managed instance
	Tenant       string   // Microsoft: tenant id, "common" by default
	Authority    string   // Microsoft: https://login.microsoftonline.com by default
	AppBundleID  string   // Apple: the audience of ID tokens minted for a native app
	// DisableSignUp: the provider signs in existing users only (upstream's disableSignUp);
	// DisableImplicitSignUp: only when the sign-in asked for requestSignUp.
	DisableSignUp, DisableImplicitSignUp bool
	// Endpoints replaces the provider's well-known URLs; it stays zero in production and points
	// tests at a fake provider.
	Endpoints providerEndpoints
}

// providerEndpoints are a built-in provider's URLs; empty fields keep the provider's own.
type providerEndpoints struct {
	Authorize  string
	Token      string
	UserInfo   string // GitHub /user, Discord /users/@me, GitLab /api/v4/user, Facebook /me, Microsoft Graph photo
	Emails     string // GitHub /user/emails
	JWKS       string
	DebugToken string // Facebook
}

func (e providerEndpoints) or(def providerEndpoints) providerEndpoints {
	pick := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	return providerEndpoints{
		Authorize:  pick(e.Authorize, def.Authorize),
		Token:      pick(e.Token, def.Token),
		UserInfo:   pick(e.UserInfo, def.UserInfo),
		Emails:     pick(e.Emails, def.Emails),
		JWKS:       pick(e.JWKS, def.JWKS),
		DebugToken: pick(e.DebugToken, def.DebugToken),
	}
}

// builtinProviders are the providers configured by AUTH_<NAME>_CLIENT_ID and friends.
var builtinProviders = []string{"github", "google", "microsoft", "discord", "gitlab", "facebook", "apple"}

// oauthFlags holds the flag values until parse reads the secrets and generic providers from the
// environment.
type oauthFlags struct {
	clientIDs, scopes               map[string]*string
	disableSignUp, disableImplicit  map[string]*bool
	tenant, authority, gitlabIssuer *string
	appleBundle, trusted            *string
	encrypt                         bool
	linking                         accountLinking
	linkingEnabled, requireVerified bool
}

func registerOAuthFlags(s *settings) *oauthFlags {
	f := &oauthFlags{clientIDs: map[string]*string{}, scopes: map[string]*string{}, disableSignUp: map[string]*bool{}, disableImplicit: map[string]*bool{}}
	for _, id := range builtinProviders {
		prefix := "AUTH_" + strings.ToUpper(id) + "_"
		f.clientIDs[id], f.scopes[id] = new(string), new(string)
		f.disableSignUp[id], f.disableImplicit[id] = new(bool), new(bool)
		s.String(f.clientIDs[id], id+"-client-id", prefix+"CLIENT_ID", "", "turns "+id+" sign-in on; "+prefix+"CLIENT_SECRET is read from the environment only")
		s.String(f.scopes[id], id+"-scopes", prefix+"SCOPES", "", "comma-separated scopes requested on top of "+id+"'s defaults")
		s.Bool(f.disableSignUp[id], id+"-disable-sign-up", prefix+"DISABLE_SIGN_UP", false, id+" sign-in does not create users; existing users still sign in")
		s.Bool(f.disableImplicit[id], id+"-disable-implicit-sign-up", prefix+"DISABLE_IMPLICIT_SIGN_UP", false, id+" sign-in creates users only when it sends requestSignUp")
	}
	f.tenant, f.authority, f.gitlabIssuer, f.appleBundle, f.trusted = new(string), new(string), new(string), new(string), new(string)
	s.String(f.tenant, "microsoft-tenant-id", "AUTH_MICROSOFT_TENANT_ID", "common", "Microsoft Entra tenant: common, organizations, consumers or a tenant id")
	s.String(f.authority, "microsoft-authority", "AUTH_MICROSOFT_AUTHORITY", "https://login.microsoftonline.com", "Microsoft login host (sovereign clouds)")
	s.String(f.gitlabIssuer, "gitlab-issuer", "AUTH_GITLAB_ISSUER", "https://gitlab.com", "GitLab instance URL")
	s.String(f.appleBundle, "apple-app-bundle-identifier", "AUTH_APPLE_APP_BUNDLE_IDENTIFIER", "", "audience of Apple ID tokens from a native app; empty: the client id")
	s.String(f.trusted, "trusted-providers", "ACCOUNT_LINKING_TRUSTED_PROVIDERS", "", "comma-separated providers whose emails link to existing users without email_verified")
	s.Bool(&f.encrypt, "encrypt-oauth-tokens", "ENCRYPT_OAUTH_TOKENS", false, "store provider access and refresh tokens encrypted with BETTER_AUTH_SECRET")
	s.Bool(&f.linkingEnabled, "account-linking", "ACCOUNT_LINKING_ENABLED", true, "provider accounts may join existing users (sign-in with a matching email, link-social)")
	s.Bool(&f.linking.AllowDifferentEmails, "account-linking-allow-different-emails", "ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS", false, "link-social may link an account whose email differs from the user's")
	s.Bool(&f.requireVerified, "account-linking-require-local-email-verified", "ACCOUNT_LINKING_REQUIRE_LOCAL_EMAIL_VERIFIED", true, "sign-in joins an existing user only when that user's email is verified")
	s.Bool(&f.linking.DisableImplicitLinking, "account-linking-disable-implicit", "ACCOUNT_LINKING_DISABLE_IMPLICIT_LINKING", false, "sign-in never joins an existing user; only link-social links")
	s.Bool(&f.linking.AllowUnlinkingAll, "account-linking-allow-unlinking-all", "ACCOUNT_LINKING_ALLOW_UNLINKING_ALL", false, "unlink-account may remove a user's last account")
	return f
}

// oidcEnvName matches AUTH_OIDC_<ID>_ISSUER, the variable that declares a generic provider.
var oidcEnvName = regexp.MustCompile(`^AUTH_OIDC_([A-Z0-9_]+)_ISSUER$`)

// providerIDPattern keeps provider ids to what a URL path segment and a cookie-free log line hold.
var providerIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// parse completes the configuration: secrets come from the environment only, and every
// AUTH_OIDC_<ID>_ISSUER variable declares a generic OpenID provider.
func (f *oauthFlags) parse(getenv func(string) string) (oauthConfig, error) {
	var c oauthConfig
	c.EncryptTokens = f.encrypt
	c.Linking = f.linking
	c.Linking.Disabled, c.Linking.LocalEmailUnverified = !f.linkingEnabled, !f.requireVerified
	c.TrustedProviders = splitList(*f.trusted)
	for _, id := range builtinProviders {
		if *f.clientIDs[id] == "" {
			continue
		}
		prefix := "AUTH_" + strings.ToUpper(id) + "_"
		pc := providerConfig{
			ID:           id,
			ClientID:     *f.clientIDs[id],
			ClientSecret: getenv(prefix + "CLIENT_SECRET"),
			Scopes:       splitList(*f.scopes[id]),

			DisableSignUp:         *f.disableSignUp[id],
			DisableImplicitSignUp: *f.disableImplicit[id],
		}
		switch id {
		case "google", "facebook", "apple":
			if pc.ClientSecret == "" {
				return oauthConfig{}, fmt.Errorf("%sCLIENT_SECRET is required with %sCLIENT_ID", prefix, prefix)
			}
		case "microsoft":
			pc.Tenant, pc.Authority = *f.tenant, strings.TrimRight(*f.authority, "/")
		case "gitlab":
			pc.Issuer = *f.gitlabIssuer
		}
		if id == "apple" {
			pc.AppBundleID = *f.appleBundle
		}
		c.Providers = append(c.Providers, pc)
	}
	var generic []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if m := oidcEnvName.FindStringSubmatch(name); m != nil {
			generic = append(generic, m[1])
		}
	}
	slices.Sort(generic)
	for _, envID := range generic {
		prefix := "AUTH_OIDC_" + envID + "_"
		id := strings.ReplaceAll(strings.ToLower(envID), "_", "-")
		if !providerIDPattern.MatchString(id) || slices.Contains(builtinProviders, id) {
			return oauthConfig{}, fmt.Errorf("%sISSUER: %q cannot be a provider id", prefix, id)
		}
		pc := providerConfig{
			ID:           id,
			Issuer:       strings.TrimRight(getenv(prefix+"ISSUER"), "/"),
			ClientID:     getenv(prefix + "CLIENT_ID"),
			ClientSecret: getenv(prefix + "CLIENT_SECRET"),
			Scopes:       splitList(getenv(prefix + "SCOPES")),

			DisableSignUp:         getenv(prefix+"DISABLE_SIGN_UP") == "true",
			DisableImplicitSignUp: getenv(prefix+"DISABLE_IMPLICIT_SIGN_UP") == "true",
		}
		if pc.ClientID == "" || originOf(pc.Issuer) == "" {
			return oauthConfig{}, fmt.Errorf("%sISSUER must be an http(s) URL and %sCLIENT_ID must be set", prefix, prefix)
		}
		c.Providers = append(c.Providers, pc)
	}
	return c, nil
}

// providerTokens is a token endpoint's answer, or what a client posted with an ID token.
type providerTokens struct {
	AccessToken           string
	RefreshToken          string
	IDToken               string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scopes                []string
	// User is Apple's user JSON, posted to the callback on the first sign-in only.
	User map[string]any
	// Nonce is the nonce the ID token must carry (generic OIDC redirect flow).
	Nonce string
}

// providerProfile is a provider's user as upstream's getUserInfo maps it.
type providerProfile struct {
	AccountID     string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	Data          map[string]any // the raw profile: account-info's "data"
}

var errNoProfile = errors.New("provider returned no usable profile")

// usable reports whether the profile and tokens can be stored: an account id, and no NUL (which
// Postgres text cannot hold) in anything that reaches a row.
func (p *providerProfile) usable(t providerTokens) bool {
	return p.AccountID != "" && !strings.ContainsRune(p.AccountID+p.Name+p.Email+deref(p.Image)+t.AccessToken+t.RefreshToken+t.IDToken+strings.Join(t.Scopes, ""), 0)
}

// oauthProvider is one ready provider. It is built once (a generic one after discovery) and never
// changed, so requests share it without locks.
type oauthProvider struct {
	id         string
	oauth      oauth2.Config // client, endpoints and scopes; RedirectURL is set per request
	pkce       bool
	loginHint  bool              // forwards loginHint as login_hint
	authParams map[string]string // fixed authorization parameters
	idToken    *idTokenVerifier  // nil: no ID token sign-in
	// opaqueIDTokens accepts a client token that is not a JWT; the profile function must then
	// prove it with the provider (Facebook's debug_token, upstream's allowOpaqueToken).
	opaqueIDTokens bool
	// nonce binds the redirect flow's ID token to the authorization request (generic OIDC, as
	// upstream's requiresIdTokenNonce).
	nonce      bool
	issuer     string // the iss callback parameter must match it (RFC 9207); generic OIDC only
	endSession string // RP-initiated logout endpoint; generic OIDC only
	// redirectURI replaces <baseURL>/callback/<id> (enterprise SSO's /sso/callback/<id>).
	redirectURI string
	// client replaces the server's provider client for token requests (enterprise SSO's, which
	// keeps endpoints off the internal network).
	client *http.Client
	// profile reads the user from tokens: from the code exchange, or from an ID token sign-in.
	profile func(ctx context.Context, t providerTokens) (*providerProfile, error)
	// profileFromIDToken, when set, reads the user of an already verified ID token sign-in.
	profileFromIDToken func(ctx context.Context, claims map[string]any) (*providerProfile, error)
	// disableSignUp and disableImplicitSignUp are the provider's options of those names.
	disableSignUp, disableImplicitSignUp bool
}

// refusesSignUp is upstream's disableSignUp argument to handleOAuthUserInfo: sign-up is off for
// the provider, or implicit and the sign-in did not ask for it with requestSignUp.
func (p *oauthProvider) refusesSignUp(requestSignUp *bool) bool {
	return p.disableSignUp || p.disableImplicitSignUp && (requestSignUp == nil || !*requestSignUp)
}

// scopes returns the scopes to request: the provider's and the configured ones, then the
// request's own.
func (p *oauthProvider) scopes(requested []string) []string {
	return append(slices.Clone(p.oauth.Scopes), requested...)
}

// providerRegistry holds the configured providers. Generic OpenID providers become ready after
// their discovery succeeds; until then a lookup tries again (upstream's pending-discovery retry),
// so an identity provider that was down when we started does not need a restart. A failed
// discovery is not retried for discoveryRetryAfter, so requests naming a provider that is down
// cannot each hold a connection to it.
type providerRegistry struct {
	client  *http.Client
	now     func() time.Time
	mu      sync.Mutex
	ready   map[string]*oauthProvider
	pending map[string]*pendingProvider
}

type pendingProvider struct {
	cfg     providerConfig
	retryAt time.Time
}

const discoveryRetryAfter = 30 * time.Second

func newProviderRegistry(cfg []providerConfig, client *http.Client, now func() time.Time) *providerRegistry {
	reg := &providerRegistry{client: client, now: now, ready: map[string]*oauthProvider{}, pending: map[string]*pendingProvider{}}
	for _, pc := range cfg {
		if slices.Contains(builtinProviders, pc.ID) {
			reg.ready[pc.ID] = newBuiltinProvider(pc, client)
		} else {
			reg.pending[pc.ID] = &pendingProvider{cfg: pc}
		}
	}
	return reg
}

// get returns the ready provider id, discovering a generic one first, or nil.
func (reg *providerRegistry) get(ctx context.Context, id string) *oauthProvider {
	reg.mu.Lock()
	p, ok := reg.ready[id]
	pending := reg.pending[id]
	var pc providerConfig
	if pending != nil {
		if reg.now().Before(pending.retryAt) {
			pending = nil
		} else {
			pc = pending.cfg
			pending.retryAt = reg.now().Add(discoveryRetryAfter) // one discovery at a time
		}
	}
	reg.mu.Unlock()
	if ok || pending == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(ctx, providerHTTPTimeout)
	defer cancel()
	ep, err := discoverOIDC(ctx, reg.client, pc.Issuer)
	if err != nil {
		slog.WarnContext(ctx, "openid provider discovery failed", "provider", id, "err", err)
		return nil
	}
	p = newOIDCProvider(pc, ep, reg.client, reg.now)
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.ready[id] = p
	delete(reg.pending, id)
	return p
}

// warmUp discovers every generic provider at start, so a misconfigured issuer shows in the log
// at once rather than at the first sign-in.
func (reg *providerRegistry) warmUp(ctx context.Context) {
	reg.mu.Lock()
	ids := make([]string, 0, len(reg.pending))
	for id := range reg.pending {
		ids = append(ids, id)
	}
	reg.mu.Unlock()
	for _, id := range ids {
		reg.get(ctx, id)
	}
}

// all returns the ready providers.
func (reg *providerRegistry) all() map[string]*oauthProvider {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	out := make(map[string]*oauthProvider, len(reg.ready))
	for id, p := range reg.ready {
		out[id] = p
	}
	return out
}

// newBuiltinProvider builds one of builtinProviders with upstream's endpoints, scopes and
// profile mapping.
func newBuiltinProvider(pc providerConfig, client *http.Client) *oauthProvider {
	p := &oauthProvider{
		id: pc.ID,
		oauth: oauth2.Config{
			ClientID:     pc.ClientID,
			ClientSecret: pc.ClientSecret,
		},
		pkce:      true,
		loginHint: true,

		disableSignUp:         pc.DisableSignUp,
		disableImplicitSignUp: pc.DisableImplicitSignUp,
	}
	var ep providerEndpoints
	var defaultScopes []string
	switch pc.ID {
	case "github":
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: "https://github.com/login/oauth/authorize",
			Token:     "https://github.com/login/oauth/access_token",
			UserInfo:  "https://api.github.com/user",
			Emails:    "https://api.github.com/user/emails",
		})
		defaultScopes = []string{"read:user", "user:email"}
		p.profile = githubProfile(client, ep)
	case "google":
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: "https://accounts.google.com/o/oauth2/v2/auth",
			Token:     "https://oauth2.googleapis.com/token",
			JWKS:      "https://www.googleapis.com/oauth2/v3/certs",
		})
		defaultScopes = []string{"email", "profile", "openid"}
		p.authParams = map[string]string{"include_granted_scopes": "true"}
		p.idToken = newIDTokenVerifier(client, ep.JWKS)
		p.idToken.issuers = []string{"https://accounts.google.com", "accounts.google.com"}
		p.idToken.maxAge = time.Hour
		p.profile = idTokenProfile(func(c map[string]any) *providerProfile {
			return &providerProfile{AccountID: claimID(c, "sub"), Name: claimString(c, "name"), Email: claimString(c, "email"),
				EmailVerified: claimBool(c, "email_verified"), Image: optionalClaim(c, "picture")}
		})
	case "microsoft":
		base := pc.Authority + "/" + pc.Tenant
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: base + "/oauth2/v2.0/authorize",
			Token:     base + "/oauth2/v2.0/token",
			JWKS:      base + "/discovery/v2.0/keys",
			UserInfo:  "https://graph.microsoft.com/v1.0/me/photos/48x48/$value",
		})
		defaultScopes = []string{"openid", "profile", "email", "User.Read", "offline_access"}
		p.idToken = newIDTokenVerifier(client, ep.JWKS)
		p.idToken.maxAge = time.Hour
		p.idToken.checkClaims = microsoftTenantCheck(pc.Authority, pc.Tenant)
		p.profile = microsoftProfile(client, ep)
	case "discord":
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: "https://discord.com/api/oauth2/authorize",
			Token:     "https://discord.com/api/oauth2/token",
			UserInfo:  "https://discord.com/api/users/@me",
		})
		defaultScopes = []string{"identify", "email"}
		p.pkce, p.loginHint = false, false
		p.authParams = map[string]string{"prompt": "none"}
		p.profile = discordProfile(client, ep)
	case "gitlab":
		issuer := strings.TrimRight(pc.Issuer, "/")
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: issuer + "/oauth/authorize",
			Token:     issuer + "/oauth/token",
			UserInfo:  issuer + "/api/v4/user",
		})
		defaultScopes = []string{"read_user"}
		p.profile = gitlabProfile(client, ep)
	case "facebook":
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize:  "https://www.facebook.com/v24.0/dialog/oauth",
			Token:      "https://graph.facebook.com/v24.0/oauth/access_token",
			UserInfo:   "https://graph.facebook.com/me",
			DebugToken: "https://graph.facebook.com/debug_token",
			JWKS:       "https://limited.facebook.com/.well-known/oauth/openid/jwks/",
		})
		defaultScopes = []string{"email", "public_profile"}
		p.pkce = false
		p.idToken = newIDTokenVerifier(client, ep.JWKS)
		p.idToken.issuers = []string{"https://www.facebook.com"}
		p.opaqueIDTokens = true
		p.profile = facebookProfile(client, ep, pc.ClientID, pc.ClientSecret)
	case "apple":
		ep = pc.Endpoints.or(providerEndpoints{
			Authorize: "https://appleid.apple.com/auth/authorize",
			Token:     "https://appleid.apple.com/auth/token",
			JWKS:      "https://appleid.apple.com/auth/keys",
		})
		defaultScopes = []string{"email", "name"}
		p.loginHint = false
		// Apple answers with a form post carrying code and id_token (upstream callbackOAuth).
		p.authParams = map[string]string{"response_mode": "form_post", "response_type": "code id_token"}
		p.idToken = newIDTokenVerifier(client, ep.JWKS)
		p.idToken.issuers = []string{"https://appleid.apple.com"}
		p.idToken.maxAge = time.Hour
		p.idToken.nonceSHA256 = true
		p.profile = appleProfile
	}
	if p.idToken != nil {
		p.idToken.audiences = []string{pc.ClientID}
		if pc.AppBundleID != "" {
			p.idToken.audiences = []string{pc.AppBundleID}
		}
	}
	p.oauth.Endpoint = oauth2.Endpoint{AuthURL: ep.Authorize, TokenURL: ep.Token, AuthStyle: oauth2.AuthStyleInParams}
	p.oauth.Scopes = append(defaultScopes, pc.Scopes...)
	return p
}

// newOIDCProvider builds a generic OpenID provider from its discovery document, as upstream's
// genericOAuth does with a discoveryUrl: PKCE, an ID token verified against the provider's JWKS
// and bound to the request by a nonce, the userinfo endpoint when the ID token lacks the email.
func newOIDCProvider(pc providerConfig, ep *oidcEndpoints, client *http.Client, now func() time.Time) *oauthProvider {
	scopes := pc.Scopes
	if len(scopes) == 0 {
		// Upstream genericOAuth's default; without email and profile most IdPs return no email.
		scopes = []string{"openid", "email", "profile"}
	}
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	v := newIDTokenVerifier(client, ep.JWKS)
	v.issuers = []string{ep.Issuer}
	v.audiences = []string{pc.ClientID}
	v.algs = ep.SigningAlgs
	p := &oauthProvider{
		id: pc.ID,
		oauth: oauth2.Config{
			ClientID:     pc.ClientID,
			ClientSecret: pc.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: ep.Authorization, TokenURL: ep.Token, AuthStyle: oauth2.AuthStyleInParams},
			Scopes:       scopes,
		},
		pkce:       true,
		loginHint:  true,
		idToken:    v,
		nonce:      true,
		issuer:     ep.Issuer,
		endSession: ep.EndSession,

		disableSignUp:         pc.DisableSignUp,
		disableImplicitSignUp: pc.DisableImplicitSignUp,
	}
	p.profileFromIDToken = func(ctx context.Context, claims map[string]any) (*providerProfile, error) {
		return oidcProfile(ctx, client, ep.UserInfo, providerTokens{}, claims)
	}
	p.profile = func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		if t.IDToken == "" {
			return oidcProfile(ctx, client, ep.UserInfo, t, nil)
		}
		claims, err := v.verify(ctx, t.IDToken, t.Nonce, now())
		if err != nil {
			return nil, fmt.Errorf("verify id token: %w", err)
		}
		return oidcProfile(ctx, client, ep.UserInfo, t, claims)
	}
	return p
}

// oidcProfile is upstream's generic fetchUserInfo: the ID token's claims when they carry sub and
// email, else the userinfo endpoint, whose sub must then be the ID token's (OpenID Connect Core
// section 5.3.2).
func oidcProfile(ctx context.Context, client *http.Client, userInfoURL string, t providerTokens, claims map[string]any) (*providerProfile, error) {
	raw := claims
	if claimID(claims, "sub") == "" || claimString(claims, "email") == "" {
		if userInfoURL == "" || t.AccessToken == "" {
			return nil, errNoProfile
		}
		if err := providerGet(ctx, client, userInfoURL, t.AccessToken, &raw); err != nil {
			return nil, err
		}
		if claims != nil && claimID(raw, "sub") != claimID(claims, "sub") {
			return nil, fmt.Errorf("%w: userinfo sub differs from the id token's", errNoProfile)
		}
	}
	accountID := claimID(raw, "sub")
	if claims != nil {
		accountID = claimID(claims, "sub")
	}
	return &providerProfile{AccountID: accountID, Name: claimString(raw, "name"), Email: claimString(raw, "email"),
		EmailVerified: claimBool(raw, "email_verified"), Image: optionalClaim(raw, "picture"), Data: raw}, nil
}

// idTokenClaims are the claims of the token endpoint's ID token, errNoProfile when the provider
// sent none.
func idTokenClaims(t providerTokens) (map[string]any, error) {
	if t.IDToken == "" {
		return nil, errNoProfile
	}
	return jwtClaims(t.IDToken)
}

// idTokenProfile maps the claims of the token endpoint's ID token, as Google's getUserInfo does.
func idTokenProfile(mapping func(claims map[string]any) *providerProfile) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(_ context.Context, t providerTokens) (*providerProfile, error) {
		claims, err := idTokenClaims(t)
		if err != nil {
			return nil, err
		}
		p := mapping(claims)
		p.Data = claims
		return p, nil
	}
}

func optionalClaim(claims map[string]any, name string) *string {
	if s, ok := claims[name].(string); ok {
		return &s
	}
	return nil
}

// providerGet fetches a JSON resource with the access token as a bearer token.
func providerGet(ctx context.Context, client *http.Client, u, accessToken string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "better-auth") // GitHub's API refuses requests without one
	resp, err := client.Do(req)
	if err != nil {
		// The error is logged: drop the URL it quotes, whose query may carry tokens (debug_token).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("get %s: %w", req.URL.Host+req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("get %s: status %d", req.URL.Host+req.URL.Path, resp.StatusCode)
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxProviderResponse))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("get %s: %w", req.URL.Host+req.URL.Path, err)
	}
	return nil
}

// githubProfile: name is name or login; a private email comes from /user/emails (the primary
// one, else the first), whose verified flag is the emailVerified of the chosen email.
func githubProfile(client *http.Client, ep providerEndpoints) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		var raw map[string]any
		if err := providerGet(ctx, client, ep.UserInfo, t.AccessToken, &raw); err != nil {
			return nil, err
		}
		var emails []struct {
			Email    string `json:"email"`
			Primary  bool   `json:"primary"`
			Verified bool   `json:"verified"`
		}
		if err := providerGet(ctx, client, ep.Emails, t.AccessToken, &emails); err != nil {
			emails = nil // upstream carries on without the list
		}
		email := claimString(raw, "email")
		if email == "" && len(emails) > 0 {
			chosen := emails[0]
			for _, e := range emails {
				if e.Primary {
					chosen = e
					break
				}
			}
			email = chosen.Email
			raw["email"] = email
		}
		verified := false
		for _, e := range emails {
			if e.Email == email {
				verified = e.Verified
				break
			}
		}
		name := claimString(raw, "name")
		if name == "" {
			name = claimString(raw, "login")
		}
		return &providerProfile{AccountID: claimID(raw, "id"), Name: name, Email: email, EmailVerified: verified,
			Image: optionalClaim(raw, "avatar_url"), Data: raw}, nil
	}
}

// microsoftConsumerTenant is the tenant id of every personal Microsoft account.
const microsoftConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// microsoftTenantCheck binds an ID token to the configured tenant. Multi-tenant endpoints have no
// fixed issuer, so the issuer must name the token's own tenant and the account class must be the
// one configured; a single tenant fixes the issuer.
func microsoftTenantCheck(authority, tenant string) func(map[string]any) bool {
	return func(c map[string]any) bool {
		tid := claimString(c, "tid")
		if tid == "" || claimString(c, "iss") != authority+"/"+tid+"/v2.0" {
			return false
		}
		switch tenant {
		case "common":
			return true
		case "organizations":
			return tid != microsoftConsumerTenant
		case "consumers":
			return tid == microsoftConsumerTenant
		}
		return tid == tenant
	}
}

// microsoftProfile reads the ID token (the account id is its oid) and, with an access token, the
// 48×48 Graph photo as a data URL, as upstream does.
func microsoftProfile(client *http.Client, ep providerEndpoints) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		c, err := idTokenClaims(t)
		if err != nil {
			return nil, err
		}
		if claimID(c, "oid") == "" {
			return nil, fmt.Errorf("%w: microsoft id token has no oid", errNoProfile)
		}
		if t.AccessToken != "" {
			if photo := fetchPhoto(ctx, client, ep.UserInfo, t.AccessToken); photo != "" {
				c["picture"] = "data:image/jpeg;base64, " + photo
			}
		}
		email := claimString(c, "email")
		verified := false
		if _, ok := c["email_verified"]; ok {
			verified = claimBool(c, "email_verified")
		} else if email != "" {
			verified = claimListContains(c, "verified_primary_email", email) || claimListContains(c, "verified_secondary_email", email)
		}
		return &providerProfile{AccountID: claimID(c, "oid"), Name: claimString(c, "name"), Email: email, EmailVerified: verified,
			Image: optionalClaim(c, "picture"), Data: c}, nil
	}
}

func claimListContains(c map[string]any, name, want string) bool {
	list, _ := c[name].([]any)
	for _, v := range list {
		if v == want {
			return true
		}
	}
	return false
}

// fetchPhoto returns the base64 of an image resource, or "" when there is none.
func fetchPhoto(ctx context.Context, client *http.Client, u, accessToken string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return ""
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

// discordProfile: the avatar URL is built from the avatar hash, or Discord's default avatar.
func discordProfile(client *http.Client, ep providerEndpoints) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		var raw map[string]any
		if err := providerGet(ctx, client, ep.UserInfo, t.AccessToken, &raw); err != nil {
			return nil, err
		}
		id := claimID(raw, "id")
		var image string
		if avatar := claimString(raw, "avatar"); avatar != "" {
			format := "png"
			if strings.HasPrefix(avatar, "a_") {
				format = "gif"
			}
			image = "https://cdn.discordapp.com/avatars/" + id + "/" + avatar + "." + format
		} else {
			image = fmt.Sprintf("https://cdn.discordapp.com/embed/avatars/%d.png", discordDefaultAvatar(id, claimString(raw, "discriminator")))
		}
		raw["image_url"] = image
		name := claimString(raw, "global_name")
		if name == "" {
			name = claimString(raw, "username")
		}
		return &providerProfile{AccountID: id, Name: name, Email: claimString(raw, "email"), EmailVerified: claimBool(raw, "verified"),
			Image: &image, Data: raw}, nil
	}
}

// discordDefaultAvatar is Discord's default avatar index: (id >> 22) % 6 for new usernames,
// discriminator % 5 for legacy ones.
func discordDefaultAvatar(id, discriminator string) uint64 {
	if discriminator == "0" || discriminator == "" {
		n, _ := strconv.ParseUint(id, 10, 64)
		return (n >> 22) % 6
	}
	d, _ := strconv.ParseUint(discriminator, 10, 64)
	return d % 5
}

// gitlabProfile refuses blocked and locked GitLab users, as upstream does.
func gitlabProfile(client *http.Client, ep providerEndpoints) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		var raw map[string]any
		if err := providerGet(ctx, client, ep.UserInfo, t.AccessToken, &raw); err != nil {
			return nil, err
		}
		if claimString(raw, "state") != "active" || claimBool(raw, "locked") {
			return nil, fmt.Errorf("%w: gitlab user is not active", errNoProfile)
		}
		name, ok := raw["name"].(string)
		if !ok {
			name = claimString(raw, "username")
		}
		return &providerProfile{AccountID: claimID(raw, "id"), Name: name, Email: claimString(raw, "email"),
			EmailVerified: claimBool(raw, "email_verified"), Image: optionalClaim(raw, "avatar_url"), Data: raw}, nil
	}
}

// facebookProfile reads a Limited Login ID token when there is one; otherwise it checks that the
// access token was issued to this app (debug_token: a token of another app would otherwise
// sign its user in here) and reads /me.
func facebookProfile(client *http.Client, ep providerEndpoints, clientID, clientSecret string) func(context.Context, providerTokens) (*providerProfile, error) {
	return func(ctx context.Context, t providerTokens) (*providerProfile, error) {
		if strings.Count(t.IDToken, ".") == 2 {
			c, err := jwtClaims(t.IDToken)
			if err != nil {
				return nil, err
			}
			return &providerProfile{AccountID: claimID(c, "sub"), Name: claimString(c, "name"), Email: claimString(c, "email"),
				Image: optionalClaim(c, "picture"), Data: c}, nil
		}
		if t.AccessToken == "" {
			return nil, errNoProfile
		}
		var debug struct {
			Data struct {
				IsValid bool   `json:"is_valid"`
				AppID   string `json:"app_id"`
				UserID  string `json:"user_id"`
			} `json:"data"`
		}
		q := url.Values{"input_token": {t.AccessToken}, "access_token": {clientID + "|" + clientSecret}}
		if err := providerGet(ctx, client, ep.DebugToken+"?"+q.Encode(), t.AccessToken, &debug); err != nil {
			return nil, err
		}
		if !debug.Data.IsValid || debug.Data.AppID != clientID || debug.Data.UserID == "" {
			return nil, fmt.Errorf("%w: facebook token is not this app's", errNoProfile)
		}
		var raw map[string]any
		if err := providerGet(ctx, client, ep.UserInfo+"?fields=id,name,email,picture", t.AccessToken, &raw); err != nil {
			return nil, err
		}
		if claimID(raw, "id") != debug.Data.UserID {
			return nil, fmt.Errorf("%w: facebook profile is not the token's user", errNoProfile)
		}
		var image *string
		if pic, ok := raw["picture"].(map[string]any); ok {
			if data, ok := pic["data"].(map[string]any); ok {
				image = optionalClaim(data, "url")
			}
		}
		return &providerProfile{AccountID: debug.Data.UserID, Name: claimString(raw, "name"), Email: claimString(raw, "email"),
			EmailVerified: claimBool(raw, "email_verified"), Image: image, Data: raw}, nil
	}
}

// appleProfile reads the ID token; Apple sends the name only once, in the callback's user
// parameter, as {"name":{"firstName","lastName"}}.
func appleProfile(_ context.Context, t providerTokens) (*providerProfile, error) {
	c, err := idTokenClaims(t)
	if err != nil {
		return nil, err
	}
	name := claimString(c, "name")
	if n, ok := t.User["name"].(map[string]any); ok {
		name = strings.TrimSpace(claimString(n, "firstName") + " " + claimString(n, "lastName"))
	}
	c["name"] = name
	return &providerProfile{AccountID: claimID(c, "sub"), Name: name, Email: claimString(c, "email"),
		EmailVerified: claimBool(c, "email_verified"), Data: c}, nil
}
