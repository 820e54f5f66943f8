package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"
)

// Sign-in through an enterprise SSO provider (upstream packages/sso/src/routes/sso.ts): the
// provider is found by provider id, organization slug or email domain; the browser goes to it with
// state, PKCE and a nonce; the callback verifies the ID token against the provider's JWKS, signs
// the user in and provisions them into the provider's organization.

var (
	errSSOLookupRequired   = apiErr(400, "", "email, organizationSlug, domain or providerId is required")
	errSSOLookupEmpty      = apiErr(400, "", "providerId, orgId or domain is required")
	errSSONoProvider       = apiErr(404, "", "No provider found for the issuer")
	errSSONoOIDC           = apiErr(400, "", "OIDC provider is not configured")
	errSSONoSAML           = apiErr(400, "", "SAML provider is not configured")
	errSSODomainUnverified = apiErr(401, "", "Provider domain has not been verified")
	errSSONoAuthorizeURL   = apiErr(400, "", "Invalid OIDC configuration. Authorization URL not found.")
	errSSOInvalidProvider  = apiErr(400, "", "Invalid SSO provider")
)

// ssoDefaultScopes are requested when neither the request nor the provider names scopes.
var ssoDefaultScopes = []string{"openid", "email", "profile", "offline_access"}

type ssoSignInBody struct {
	Email              string            `json:"email"`
	OrganizationSlug   string            `json:"organizationSlug"`
	ProviderID         string            `json:"providerId"`
	Domain             string            `json:"domain"`
	CallbackURL        string            `json:"callbackURL" required:"true"`
	ErrorCallbackURL   string            `json:"errorCallbackURL"`
	NewUserCallbackURL *string           `json:"newUserCallbackURL"`
	Scopes             []string          `json:"scopes"`
	LoginHint          string            `json:"loginHint"`
	AdditionalParams   map[string]string `json:"additionalParams"`
	RequestSignUp      *bool             `json:"requestSignUp"`
	ProviderType       string            `json:"providerType"`
}

// handleSignInSSO starts a sign-in at the caller's identity provider and answers its URL (upstream
// signInSSO).
func (s *server) handleSignInSSO(w http.ResponseWriter, r *http.Request) error {
	var body ssoSignInBody
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	if body.ProviderType != "" && body.ProviderType != "oidc" && body.ProviderType != "saml" {
		return validationError(`[body.providerType] Invalid option: expected one of "oidc"|"saml"`)
	}
	for k := range body.AdditionalParams {
		if slices.Contains(reservedAuthParams, k) {
			return errReservedAuthParams
		}
	}
	if body.Email == "" && body.OrganizationSlug == "" && body.Domain == "" && body.ProviderID == "" {
		return errSSOLookupRequired
	}
	ctx := r.Context()
	p, cfg, err := s.signInProvider(ctx, &body)
	if err != nil {
		return err
	}
	if cfg == nil {
		return s.startSAMLSignIn(w, r, p, &body)
	}
	ref, err := s.reference(p)
	if err != nil {
		return err
	}
	if err := s.ensureEndpoints(r, p, cfg); err != nil {
		return err
	}
	if cfg.AuthorizationEndpoint == "" {
		return errSSONoAuthorizeURL
	}
	scopes := body.Scopes
	if scopes == nil {
		scopes = cfg.Scopes
	}
	if scopes == nil {
		scopes = ssoDefaultScopes
	}
	start := &socialStartBody{
		CallbackURL: body.CallbackURL, ErrorCallbackURL: body.ErrorCallbackURL, NewUserCallbackURL: body.NewUserCallbackURL,
		RequestSignUp: body.RequestSignUp, LoginHint: body.LoginHint, AdditionalParams: body.AdditionalParams,
	}
	if start.LoginHint == "" {
		start.LoginHint = body.Email
	}
	authURL, err := s.startOAuth(w, r, s.ssoOAuthProvider(r, p, cfg, scopes), start, nil, &oauthServerContext{SSOProviderReference: ref})
	if err != nil {
		return err
	}
	// Unlike sign-in/social, upstream sets no Location header here.
	writeJSON(w, http.StatusOK, struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}{authURL, true})
	return nil
}

// signInProvider finds the provider a sign-in names (by id, organization slug, or the email's or
// given domain) and checks that it can sign in here: by OIDC (its configuration returned) or, with
// no OIDC configuration returned, by SAML.
func (s *server) signInProvider(ctx context.Context, body *ssoSignInBody) (*ssoProvider, *ssoOIDCConfig, error) {
	domain := body.Domain
	if _, after, ok := strings.Cut(body.Email, "@"); domain == "" && ok {
		domain, _, _ = strings.Cut(after, "@")
	}
	orgID := ""
	if body.OrganizationSlug != "" {
		org, err := orgBySlug(ctx, s.db, body.OrganizationSlug)
		if err != nil {
			return nil, nil, err
		}
		if org != nil {
			orgID = org.ID
		}
	}
	if body.ProviderID == "" && orgID == "" && domain == "" {
		return nil, nil, errSSOLookupEmpty
	}
	p, err := s.findSignInProvider(ctx, body.ProviderID, orgID, domain)
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		return nil, nil, errSSONoProvider
	}
	cfg := p.oidcConfig()
	switch {
	case body.ProviderType == "oidc" && cfg == nil:
		return nil, nil, errSSONoOIDC
	case body.ProviderType == "saml" && !p.hasSAML():
		return nil, nil, errSSONoSAML
	case s.cfg.SSO.DomainVerification && !s.domainVerified(p):
		return nil, nil, errSSODomainUnverified
	case cfg == nil || body.ProviderType == "saml":
		if p.hasSAML() {
			return p, nil, nil // a SAML sign-in (samlacs.go)
		}
		return nil, nil, errSSOInvalidProvider
	}
	return p, cfg, nil
}

// findSignInProvider is upstream's lookup: by provider id, else the first provider of the
// organization, else by domain: an exact match of the domain column first, then any provider
// whose domains cover it (a subdomain matches its parent's provider).
func (s *server) findSignInProvider(ctx context.Context, providerID, orgID, domain string) (*ssoProvider, error) {
	switch {
	case providerID != "":
		return ssoProviderByID(ctx, s.db, providerID, "")
	case orgID != "":
		return scanSSOProvider(s.db.QueryRow(ctx, `SELECT `+ssoProviderColumns+` FROM "ssoProvider" p
			WHERE p."organizationId" = $1 ORDER BY p."providerId" LIMIT 1`, orgID))
	}
	p, err := scanSSOProvider(s.db.QueryRow(ctx, `SELECT `+ssoProviderColumns+` FROM "ssoProvider" p
		WHERE p.domain = $1 ORDER BY p."providerId" LIMIT 1`, domain))
	if p != nil || err != nil {
		return p, err
	}
	// Only rows that mention one of the domain's parent domains can match; the rest are not read.
	// No hostname is longer than 253 characters (RFC 1035 section 2.3.4), so a longer search matches
	// nothing and never becomes a query with a pattern per label.
	search := strings.ToLower(strings.TrimSpace(domain))
	if len(search) > 253 {
		return nil, nil
	}
	var patterns []string
	for d := search; d != ""; {
		patterns = append(patterns, "%"+escapeLike(d)+"%")
		_, d, _ = strings.Cut(d, ".")
	}
	candidates, err := collect[ssoProvider](ctx, s.db, "find sso providers by domain", `SELECT `+ssoProviderColumns+` FROM "ssoProvider" p
		WHERE lower(p.domain) LIKE ANY ($1) ORDER BY p."providerId"`, patterns)
	if err != nil {
		return nil, err
	}
	for i := range candidates {
		if domainMatches(search, candidates[i].Domain) {
			return &candidates[i], nil
		}
	}
	return nil, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// domainMatches is upstream's: the search domain equals one of the provider's domains or is a
// subdomain of one.
func domainMatches(search, domainList string) bool {
	search = strings.ToLower(strings.TrimSpace(search))
	domains := providerDomains(domainList)
	if search == "" || domains == nil {
		return false
	}
	return slices.ContainsFunc(domains, func(d string) bool { return search == d || strings.HasSuffix(search, "."+d) })
}

// emailInDomain is upstream's validateEmailDomain: the email's domain is covered by the provider.
func emailInDomain(email, domainList string) bool {
	parts := strings.Split(email, "@")
	return len(parts) > 1 && parts[1] != "" && domainList != "" && domainMatches(parts[1], domainList)
}

// providerDomains is upstream's parseProviderDomains: the comma-separated entries of a provider's
// domain, each reduced to a lowercase hostname (an entry may be a URL); nil when any entry is not
// a hostname, since then the list cannot be trusted to mean what its owner thought.
func providerDomains(list string) []string {
	var out []string
	for entry := range strings.SplitSeq(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		h := hostnameOf(entry)
		if h == "" {
			return nil
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// hostnameOf reads the hostname of a domain or URL as the tldts library upstream uses does:
// scheme, user-info, port, path and a trailing dot dropped, lowercased; "" for anything that is
// not a hostname (spaces, wildcards, a label starting or ending with "-").
func hostnameOf(s string) string {
	if _, after, ok := strings.Cut(s, "://"); ok {
		s = after
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return ""
		}
		return strings.ToLower(s[1:end])
	}
	if host, port, ok := strings.Cut(s, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		s = host
	}
	s = strings.ToLower(strings.TrimRight(s, "."))
	if s == "" {
		return ""
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") ||
			strings.ContainsFunc(label, func(r rune) bool { return r < 0x80 && !isHostnameByte(byte(r)) }) {
			return ""
		}
	}
	return s
}

func isHostnameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// ssoOAuthProvider turns a stored provider into the OAuth client the shared redirect flow uses:
// PKCE as configured, a nonce always, the token request authenticated as configured
// (client_secret_basic unless client_secret_post), every request through the SSO client.
func (s *server) ssoOAuthProvider(r *http.Request, p *ssoProvider, cfg *ssoOIDCConfig, scopes []string) *oauthProvider {
	style := oauth2.AuthStyleInHeader
	if cfg.TokenEndpointAuthentication == "client_secret_post" {
		style = oauth2.AuthStyleInParams
	}
	return &oauthProvider{
		id: p.ProviderID,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: s.clientSecret(cfg),
			Endpoint:     oauth2.Endpoint{AuthURL: cfg.AuthorizationEndpoint, TokenURL: cfg.TokenEndpoint, AuthStyle: style},
			Scopes:       scopes,
		},
		pkce:        cfg.PKCE != nil && *cfg.PKCE,
		loginHint:   true,
		nonce:       true,
		issuer:      p.Issuer,
		redirectURI: s.ssoRedirectURI(r, p.ProviderID),
		client:      s.ssoClient,
	}
}

var errSSOProviderChanged = &callbackFailure{"SSO_PROVIDER_CHANGED", "SSO provider changed while account linking was in progress"}

func (s *server) handleSSOCallback(w http.ResponseWriter, r *http.Request) error {
	return s.ssoCallback(w, r, r.PathValue("providerId"))
}

// handleSSOSharedCallback is /sso/callback, where the provider comes from the state.
func (s *server) handleSSOSharedCallback(w http.ResponseWriter, r *http.Request) error {
	return s.ssoCallback(w, r, "")
}

// ssoCallback completes a sign-in (upstream callbackSSO). Every failure after the state is read
// redirects to the flow's error URL with upstream's error and error_description.
func (s *server) ssoCallback(w http.ResponseWriter, r *http.Request, providerID string) error {
	q, err := readSSOCallbackQuery(r)
	if err != nil {
		return err
	}
	st, fail, err := s.openCallbackState(w, r, q.state)
	if st == nil || err != nil {
		return err
	}
	ref := st.providerReference()
	if providerID == "" {
		if ref == nil {
			return fail("invalid_state", "missing_sso_provider_reference")
		}
		providerID = ref.ProviderID
	}
	if q.code == "" || q.err != "" {
		description := q.description
		switch {
		case description == "" && q.err != "":
			description = q.err
		case description == "":
			description = "authorization_code_not_found"
		}
		return fail(cmp.Or(q.err, "invalid_request"), description)
	}
	ctx := r.Context()
	p, cfg, err := s.ssoCallbackProvider(r, providerID, ref)
	var f *callbackFailure
	if errors.As(err, &f) {
		return fail(f.code, f.description)
	}
	if err != nil {
		return err
	}
	tokens, err := s.exchangeCode(ctx, r, s.ssoOAuthProvider(r, p, cfg, nil), q.code, st.CodeVerifier)
	if err != nil {
		slog.WarnContext(r.Context(), "sso code exchange failed", "provider", p.ProviderID, "err", err)
		return fail("invalid_provider", tokenErrorDescription(err))
	}
	profile, problem := s.ssoProfile(ctx, p, cfg, tokens, st.IDTokenNonce)
	if problem != "" {
		return fail("invalid_provider", problem)
	}
	acct := oauthAccount{providerID: p.ProviderID, accountID: profile.AccountID, tokens: tokens, scope: strings.Join(tokens.Scopes, ","),
		trusted: s.domainVerified(p) && emailInDomain(profile.Email, p.Domain)}
	res, err := s.signInWithProvider(ctx, r, profile, acct, func(ctx context.Context, tx pgx.Tx, res *oauthSignIn) error {
		return s.afterSSOSignIn(ctx, tx, p, ref, cfg, profile, res)
	})
	if err != nil {
		f := callbackFailureOf(ctx, err, p.ProviderID)
		return fail(f.code, f.description)
	}
	s.finishProviderSignIn(w, r, st, res)
	return nil
}

// ssoCallbackProvider loads the callback's provider and checks it is still the one the flow
// started with and can take a code. What ends at the error URL is a *callbackFailure; a database
// error or an unverified domain is answered as JSON, as upstream does.
func (s *server) ssoCallbackProvider(r *http.Request, providerID string, ref *ssoProviderReference) (*ssoProvider, *ssoOIDCConfig, error) {
	p, err := ssoProviderByID(r.Context(), s.db, providerID, "")
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		return nil, nil, &callbackFailure{"invalid_provider", "provider not found"}
	}
	if ref == nil {
		return nil, nil, &callbackFailure{"invalid_state", "missing_sso_provider_reference"}
	}
	if !s.isCurrentReference(p, ref) {
		return nil, nil, &callbackFailure{"invalid_state", "sso_provider_changed_during_authentication"}
	}
	if s.cfg.SSO.DomainVerification && !s.domainVerified(p) {
		return nil, nil, errSSODomainUnverified
	}
	cfg := p.oidcConfig()
	if cfg == nil {
		return nil, nil, &callbackFailure{"invalid_provider", "provider not found"}
	}
	if err := s.ensureEndpoints(r, p, cfg); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return nil, nil, &callbackFailure{"discovery_failed", ae.Message}
		}
		return nil, nil, &callbackFailure{"discovery_failed", "unexpected_discovery_error"}
	}
	switch {
	case cfg.TokenEndpoint == "":
		return nil, nil, &callbackFailure{"invalid_provider", "token_endpoint_not_found"}
	case cfg.TokenEndpointAuthentication == "private_key_jwt":
		return nil, nil, &callbackFailure{"invalid_provider", "no_private_key_available"}
	}
	return p, cfg, nil
}

// ssoCallbackQuery is what an identity provider sends back to the callback.
type ssoCallbackQuery struct{ code, state, err, description string }

func readSSOCallbackQuery(r *http.Request) (ssoCallbackQuery, error) {
	var q ssoCallbackQuery
	for _, f := range []struct {
		name string
		dst  *string
	}{{"code", &q.code}, {"state", &q.state}, {"error", &q.err}, {"error_description", &q.description}} {
		v, err := queryString(r, f.name, false)
		if err != nil {
			return q, err
		}
		*f.dst = v
	}
	return q, nil
}

// providerReference is the SSO provider the flow started with, when the state names one whole.
func (st *oauthState) providerReference() *ssoProviderReference {
	if sc := st.ServerContext; sc != nil && sc.SSOProviderReference != nil && sc.SSOProviderReference.ProviderID != "" &&
		sc.SSOProviderReference.Fingerprint != "" {
		return sc.SSOProviderReference
	}
	return nil
}

// isCurrentReference is upstream's isCurrentSSOProviderReference: the flow started with this very
// row, configured as it is now.
func (s *server) isCurrentReference(p *ssoProvider, ref *ssoProviderReference) bool {
	if ref == nil || ref.ProviderID != p.ProviderID || ref.Source.Type != "persisted" || ref.Source.RecordID != p.ID {
		return false
	}
	fp, err := s.fingerprint(p)
	return err == nil && fp == ref.Fingerprint
}

// tokenErrorDescription is what upstream's getOIDCErrorDescription makes of a failed token
// request: the provider's error_description, else the HTTP status text, else its error code.
func tokenErrorDescription(err error) string {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return "token_response_error"
	}
	if re.ErrorDescription != "" {
		return re.ErrorDescription
	}
	if re.Response != nil && http.StatusText(re.Response.StatusCode) != "" {
		return http.StatusText(re.Response.StatusCode)
	}
	return cmp.Or(re.ErrorCode, "token_response_error")
}

// ssoProfile reads the signed-in user (upstream callbackSSO): the ID token, verified against the
// provider's JWKS (signature, iss = the provider's issuer, aud and azp = our client id, exp, iat,
// and our nonce when this server started the flow), then the userinfo endpoint when there is one,
// whose sub must be the ID token's. It returns upstream's error description when it cannot.
func (s *server) ssoProfile(ctx context.Context, p *ssoProvider, cfg *ssoOIDCConfig, t providerTokens, nonce string) (*providerProfile, string) {
	var idClaims map[string]any
	if t.IDToken != "" {
		if cfg.JWKSEndpoint == "" {
			return nil, "jwks_endpoint_not_found"
		}
		v := &idTokenVerifier{keys: s.ssoKeys.get(cfg.JWKSEndpoint), issuers: []string{p.Issuer}, audiences: []string{cfg.ClientID},
			checkClaims: authorizedParty(cfg.ClientID)}
		claims, err := v.verify(ctx, t.IDToken, nonce, s.now())
		if err != nil {
			slog.WarnContext(ctx, "sso id token refused", "provider", p.ProviderID, "err", err)
			return nil, "token_not_verified"
		}
		if claimString(claims, "sub") == "" {
			return nil, "id_token_subject_missing"
		}
		idClaims = claims
	}
	var raw map[string]any
	switch {
	case cfg.UserInfoEndpoint != "":
		if err := providerGet(ctx, s.ssoClient, cfg.UserInfoEndpoint, t.AccessToken, &raw); err != nil {
			slog.WarnContext(ctx, "sso userinfo failed", "provider", p.ProviderID, "err", err)
			return nil, "userinfo_response_error"
		}
		if raw == nil {
			return nil, "userinfo_response_not_found"
		}
		if idClaims != nil && claimString(raw, "sub") != claimString(idClaims, "sub") {
			return nil, "id_token_userinfo_subject_mismatch"
		}
	case idClaims != nil:
		raw = idClaims
	default:
		return nil, "user_info_endpoint_not_found"
	}
	var m ssoMapping
	if cfg.Mapping != nil {
		m = *cfg.Mapping
	}
	profile := &providerProfile{
		AccountID: claimString(raw, "sub"),
		Email:     claimString(raw, cmp.Or(m.Email, "email")),
		Name:      claimString(raw, cmp.Or(m.Name, "name")),
		Data:      raw,
	}
	if image := claimString(raw, cmp.Or(m.Image, "picture")); image != "" {
		profile.Image = &image
	}
	// Without SSO_TRUST_EMAIL_VERIFIED a provider's word on the email is not taken, as upstream.
	profile.EmailVerified = s.cfg.SSO.TrustEmailVerified && claimBool(raw, cmp.Or(m.EmailVerified, "email_verified"))
	if profile.Email == "" || !profile.usable(t) {
		return nil, "missing_user_info"
	}
	return profile, ""
}

// authorizedParty is upstream's assertOIDCAuthorizedParty (OpenID Connect Core section 3.1.3.7
// steps 4-5): a token for several audiences must name us as its azp, and an azp must be us.
func authorizedParty(clientID string) func(map[string]any) bool {
	return func(c map[string]any) bool {
		if azp, ok := c["azp"]; ok {
			return azp == clientID
		}
		aud, _ := c["aud"].([]any)
		return len(aud) <= 1
	}
}

// afterSSOSignIn runs in the sign-in's transaction once the user is known: the provider must still
// be the one the flow started with (its row is held until commit), the user's profile is replaced
// when the provider overrides it, and the user joins the provider's organization.
func (s *server) afterSSOSignIn(ctx context.Context, tx pgx.Tx, p *ssoProvider, ref *ssoProviderReference, cfg *ssoOIDCConfig,
	profile *providerProfile, res *oauthSignIn) error {
	current, err := ssoProviderByID(ctx, tx, p.ProviderID, "FOR SHARE")
	if err != nil {
		return err
	}
	if current == nil || !s.isCurrentReference(current, ref) {
		return errSSOProviderChanged
	}
	if cfg.OverrideUserInfo && !res.isRegister {
		if err := s.overrideUserInfo(ctx, tx, profile, res); err != nil {
			return err
		}
	}
	return s.provisionMember(ctx, tx, current.orgID(), &res.as.User)
}

// overrideUserInfo replaces the user's name, email and image with the provider's, as upstream does
// for a provider registered with overrideUserInfo.
func (s *server) overrideUserInfo(ctx context.Context, tx pgx.Tx, profile *providerProfile, res *oauthSignIn) error {
	email := strings.ToLower(profile.Email)
	verified := profile.EmailVerified
	if email == res.as.User.Email {
		verified = verified || res.as.User.EmailVerified
	}
	err := tx.QueryRow(ctx, `UPDATE "user" u SET name = $2, image = COALESCE($3, u.image), email = $4, "emailVerified" = $5, "updatedAt" = $6
		WHERE u.id = $1 RETURNING `+s.userColumns,
		res.as.User.ID, profile.Name, profile.Image, email, verified, s.now()).Scan(res.as.User.scanTargets()...)
	if isUniqueViolation(err, "") {
		return signInOutcome("unable to update user") // the provider's email belongs to another user
	}
	if err != nil {
		return fmt.Errorf("override user info: %w", err)
	}
	return s.userChanged(ctx, &res.as.User)
}

// provisionMember adds u to the provider's organization with SSO_DEFAULT_ROLE, unless they are a
// member already or hold a pending invitation (which decides their role), as upstream's
// assignOrganizationFromProvider. The organization row is locked first, as every membership change.
func (s *server) provisionMember(ctx context.Context, tx pgx.Tx, orgID string, u *user) error {
	if orgID == "" {
		return nil
	}
	org, err := lockOrganization(ctx, tx, orgID)
	if err != nil {
		return err
	}
	if org == nil {
		slog.WarnContext(ctx, "sso provider's organization is gone; user not provisioned", "organization", orgID)
		return nil
	}
	m, err := memberOf(ctx, tx, orgID, u.ID)
	if err != nil || m != nil {
		return err
	}
	var invited bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM invitation WHERE "organizationId" = $1 AND email = $2
		AND status = 'pending' AND "expiresAt" > $3)`, orgID, strings.ToLower(u.Email), s.now()).Scan(&invited)
	if err != nil {
		return fmt.Errorf("find invitation: %w", err)
	}
	if invited {
		return nil
	}
	_, err = s.insertMember(ctx, tx, orgID, u.ID, s.cfg.SSO.defaultRole())
	return err
}
