package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Enterprise SSO (upstream packages/sso/src/, OIDC and SAML): identity providers that
// organizations register at run time, stored in upstream's ssoProvider table, found at sign-in by
// email domain, provider id or organization slug. This file holds the settings, the stored
// provider and the endpoints that manage providers; ssosignin.go signs users in through them,
// oidcdiscovery.go fetches from them, ssodomain.go proves domain ownership, and saml.go,
// samlacs.go and samlslo.go speak SAML.

// ssoConfig holds the SSO settings (upstream's sso() options). Zero values are upstream's
// defaults, so a config built in code behaves as a server started with an empty environment.
type ssoConfig struct {
	ProvidersLimit     int    // providers one user may register; 0: 10; negative: registration is off
	DefaultRole        string // role given to users provisioned into a provider's organization; "": member
	DomainVerification bool   // providers sign users in only once a DNS TXT record proves their domain
	TrustEmailVerified bool   // take the provider's email_verified claim (upstream's trustEmailVerified)
	// SAMLAllowIDPInitiated accepts SAML responses no sign-in of ours asked for (upstream's
	// saml.allowIdpInitiated); SAMLSingleLogout serves single logout (saml.enableSingleLogout).
	SAMLAllowIDPInitiated bool
	SAMLSingleLogout      bool
}

const defaultSSOProvidersLimit = 10

func (c ssoConfig) providersLimit() int {
	if c.ProvidersLimit == 0 {
		return defaultSSOProvidersLimit
	}
	return max(c.ProvidersLimit, 0)
}

func (c ssoConfig) defaultRole() string {
	if c.DefaultRole == "" {
		return defaultMemberRole
	}
	return c.DefaultRole
}

type ssoFlags struct {
	limit int
	role  string
	cfg   ssoConfig // the switches, set by their flags
}

func registerSSOFlags(s *settings) *ssoFlags {
	f := &ssoFlags{}
	s.Int(&f.limit, "sso-providers-limit", "SSO_PROVIDERS_LIMIT", defaultSSOProvidersLimit, "SSO providers one user may register; 0 turns registration off")
	s.String(&f.role, "sso-default-role", "SSO_DEFAULT_ROLE", defaultMemberRole, "organization role of users an SSO provider signs in for the first time")
	s.Bool(&f.cfg.DomainVerification, "sso-domain-verification", "SSO_DOMAIN_VERIFICATION", false, "an SSO provider signs users in only after a DNS TXT record proves its domain")
	s.Bool(&f.cfg.TrustEmailVerified, "sso-trust-email-verified", "SSO_TRUST_EMAIL_VERIFIED", false, "take an SSO provider's email_verified claim; otherwise its users start unverified")
	s.Bool(&f.cfg.SAMLAllowIDPInitiated, "sso-saml-allow-idp-initiated", "SSO_SAML_ALLOW_IDP_INITIATED", false, "accept SAML responses that no sign-in started (IdP-initiated SSO)")
	s.Bool(&f.cfg.SAMLSingleLogout, "sso-saml-single-logout", "SSO_SAML_SINGLE_LOGOUT", false, "serve SAML single logout (the slo and logout routes); the IdP's messages must be signed")
	return f
}

// parse checks the values; the default role must be one the organizations know.
func (f *ssoFlags) parse(roles roleSet) (ssoConfig, error) {
	c := f.cfg
	if f.limit < 0 {
		return ssoConfig{}, fmt.Errorf("SSO_PROVIDERS_LIMIT: want a count, got %d", f.limit)
	}
	c.ProvidersLimit = f.limit
	if f.limit == 0 {
		c.ProvidersLimit = -1
	}
	c.DefaultRole = strings.Join(parseRoleList(f.role), ",")
	if unknown := roles.unknownRoles(parseRoleList(c.DefaultRole)); c.DefaultRole == "" || len(unknown) > 0 {
		return ssoConfig{}, fmt.Errorf("SSO_DEFAULT_ROLE: %q is not an organization role", f.role)
	}
	return c, nil
}

// Upstream's SSO errors (routes/sso.ts, routes/providers.ts): most carry no code.
var (
	errSSORegistrationOff   = apiErr(403, "", "SSO provider registration is disabled")
	errSSOProvidersLimit    = apiErr(403, "", "You have reached the maximum number of SSO providers")
	errSSONotOrgMember      = apiErr(400, "", "You are not a member of the organization")
	errSSONotOrgAdmin       = apiErr(403, "", "You must be an organization owner or admin to register SSO providers")
	errSSOReservedID        = apiErr(422, "", "This providerId is reserved and cannot be used for an SSO provider")
	errSSOProviderExists    = apiErr(422, "", "SSO provider with this providerId already exists")
	errSSOClientSecret      = apiErr(400, "", "clientSecret is required when using client_secret_basic or client_secret_post authentication")
	errSSOPrivateKeyJWT     = apiErr(400, "", "private_key_jwt authentication requires either a resolvePrivateKey callback or a privateKey in defaultSSO")
	errSSOProviderNotFound  = apiErr(404, "", "Provider not found")
	errSSONoAccess          = apiErr(403, "", "You don't have access to this provider")
	errSSONoUpdateFields    = apiErr(400, "", "No fields provided for update")
	errSSONoOIDCConfig      = apiErr(400, "", "Cannot update OIDC config for a provider that doesn't have OIDC configured")
	errSSOIdentityLocked    = apiErr(409, "", "Cannot change SSO provider identity fields while linked accounts exist")
	errSSOProviderIDInvalid = validationError("[body.providerId] Invalid input: a provider id must be usable as a URL path segment")
)

// ssoReservedIDs are account provider ids of upstream's own sign-in methods; an SSO provider with
// one of them would take over those accounts.
var ssoReservedIDs = []string{"credential", "email-otp", "magic-link", "phone-number", "anonymous", "siwe"}

// ssoProvider is a row of the ssoProvider table. OIDCConfig and SAMLConfig are the stored JSON
// texts (upstream keeps them as text); the OIDC client secret inside is encrypted when we wrote it.
type ssoProvider struct {
	ID             string
	Issuer         string
	OIDCConfig     *string
	SAMLConfig     *string
	UserID         string
	ProviderID     string
	OrganizationID *string
	Domain         string
	DomainVerified *bool
}

const ssoProviderColumns = `p.id, p.issuer, p."oidcConfig", p."samlConfig", p."userId", p."providerId", p."organizationId", p.domain, p."domainVerified"`

func (p *ssoProvider) scanTargets() []any {
	return []any{&p.ID, &p.Issuer, &p.OIDCConfig, &p.SAMLConfig, &p.UserID, &p.ProviderID, &p.OrganizationID, &p.Domain, &p.DomainVerified}
}

func (p *ssoProvider) orgID() string { return deref(p.OrganizationID) }

// verified is the provider's domainVerified as upstream sees it: only with domain verification on
// does the column exist for it.
func (s *server) domainVerified(p *ssoProvider) bool {
	return s.cfg.SSO.DomainVerification && p.DomainVerified != nil && *p.DomainVerified
}

// oidcConfig reads the stored OIDC configuration, or nil when there is none or it is unreadable
// (upstream's safeJsonParse failing, which its readers treat as no configuration).
func (p *ssoProvider) oidcConfig() *ssoOIDCConfig {
	if p.OIDCConfig == nil || *p.OIDCConfig == "" {
		return nil
	}
	return safeJSONParse[ssoOIDCConfig](*p.OIDCConfig)
}

// safeJSONParse reads a stored provider configuration column, or nil when it is unreadable: as
// upstream's safeJsonParse, a broken stored config counts as no config rather than an error.
func safeJSONParse[T any](stored string) *T {
	var c T
	if err := json.Unmarshal([]byte(stored), &c); err != nil {
		return nil
	}
	return &c
}

func (p *ssoProvider) hasSAML() bool {
	return p.SAMLConfig != nil && *p.SAMLConfig != "" && *p.SAMLConfig != "null"
}

// ssoOIDCConfig is the stored oidcConfig JSON, its fields in upstream's order (upstream
// packages/sso/src/types.ts).
type ssoOIDCConfig struct {
	Issuer                      string      `json:"issuer,omitempty"`
	ClientID                    string      `json:"clientId"`
	ClientSecret                string      `json:"clientSecret,omitempty"`
	AuthorizationEndpoint       string      `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint               string      `json:"tokenEndpoint,omitempty"`
	TokenEndpointAuthentication string      `json:"tokenEndpointAuthentication,omitempty"`
	PrivateKeyID                string      `json:"privateKeyId,omitempty"`
	PrivateKeyAlgorithm         string      `json:"privateKeyAlgorithm,omitempty"`
	JWKSEndpoint                string      `json:"jwksEndpoint,omitempty"`
	PKCE                        *bool       `json:"pkce,omitempty"`
	DiscoveryEndpoint           string      `json:"discoveryEndpoint,omitempty"`
	Mapping                     *ssoMapping `json:"mapping,omitempty"`
	Scopes                      []string    `json:"scopes,omitempty"`
	UserInfoEndpoint            string      `json:"userInfoEndpoint,omitempty"`
	OverrideUserInfo            bool        `json:"overrideUserInfo"`
}

// ssoMapping names the claims a provider's user is read from (upstream's oidcMappingSchema).
type ssoMapping struct {
	Email         string         `json:"email" required:"true"`
	EmailVerified string         `json:"emailVerified,omitempty"`
	Name          string         `json:"name" required:"true"`
	Image         string         `json:"image,omitempty"`
	ExtraFields   map[string]any `json:"extraFields,omitempty"`
}

// clientSecret returns the configuration's client secret in clear. We store it encrypted with
// BETTER_AUTH_SECRET; the Node server stores it as it came, so a value that does not decrypt is
// taken as such a plain-text secret. Decryption succeeds only on a value sealed with our secret,
// so a plain secret cannot be mistaken for an encrypted one.
func (s *server) clientSecret(c *ssoOIDCConfig) string {
	if c.ClientSecret == "" {
		return ""
	}
	if plain, err := s.symmetricDecrypt(c.ClientSecret); err == nil {
		return plain
	}
	return c.ClientSecret
}

// ssoProviderReference is upstream's provider reference: which provider a flow started with, and
// a fingerprint of its configuration then.
type ssoProviderReference struct {
	ProviderID  string `json:"providerId"`
	Source      ssoRef `json:"source"`
	Fingerprint string `json:"authenticationConfigurationFingerprint"`
}

type ssoRef struct {
	Type     string `json:"type"`
	RecordID string `json:"recordId,omitempty"`
}

// reference returns the provider's reference as upstream's computeSSOProviderReference does, so a
// flow started on either server is accepted by the other's callback.
func (s *server) reference(p *ssoProvider) (*ssoProviderReference, error) {
	fp, err := s.fingerprint(p)
	if err != nil {
		return nil, err
	}
	return &ssoProviderReference{ProviderID: p.ProviderID, Source: ssoRef{Type: "persisted", RecordID: p.ID}, Fingerprint: fp}, nil
}

// fingerprint is upstream's computeProviderAuthenticationFingerprint: base64url (no padding) of
// SHA-256 of a canonical JSON (keys sorted, undefined dropped) of the provider's domain,
// domainVerified (only with domain verification on), issuer, organizationId and its parsed
// oidcConfig without the client secret. It is computed on the stored JSON as either server reads
// it, so the secret's encryption and the stored key order do not matter.
func (s *server) fingerprint(p *ssoProvider) (string, error) {
	obj := map[string]any{"domain": p.Domain, "issuer": p.Issuer, "organizationId": nil}
	if p.OrganizationID != nil {
		obj["organizationId"] = *p.OrganizationID
	}
	if s.cfg.SSO.DomainVerification {
		obj["domainVerified"] = nil
		if p.DomainVerified != nil {
			obj["domainVerified"] = *p.DomainVerified
		}
	}
	if p.OIDCConfig != nil && *p.OIDCConfig != "" {
		dec := json.NewDecoder(strings.NewReader(*p.OIDCConfig))
		dec.UseNumber()
		var oidc map[string]any
		if err := dec.Decode(&oidc); err == nil && oidc != nil {
			delete(oidc, "clientSecret")
			obj["oidcConfig"] = oidc
		}
	}
	if c := samlWithoutPrivateKeys(p); c != nil {
		obj["samlConfig"] = c
	}
	var b bytes.Buffer
	if err := writeJS(&b, obj); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// ssoProviderByID finds a provider by its providerId; lock is "", "FOR UPDATE" or "FOR SHARE".
func ssoProviderByID(ctx context.Context, q querier, providerID, lock string) (*ssoProvider, error) {
	return scanSSOProvider(q.QueryRow(ctx, `SELECT `+ssoProviderColumns+` FROM "ssoProvider" p WHERE p."providerId" = $1 `+lock, providerID))
}

func scanSSOProvider(row pgx.Row) (*ssoProvider, error) {
	return scanOptional(row, "sso provider", (*ssoProvider).scanTargets)
}

// isOrgAdmin is upstream's hasOrgAdminRole on the caller's membership: owner or admin among the
// member's roles, by name.
func isOrgAdmin(ctx context.Context, q querier, orgID, userID string) (bool, error) {
	m, err := memberOf(ctx, q, orgID, userID)
	if err != nil || m == nil {
		return false, err
	}
	return hasRole(m.Role, creatorRole) || hasRole(m.Role, "admin"), nil
}

// accessibleProvider is upstream's checkProviderAccess: the provider, if the caller may manage it
// (an organization's provider: its owners and admins; any other: the user who registered it).
func (s *server) accessibleProvider(ctx context.Context, as *authSession, providerID string) (*ssoProvider, error) {
	p, err := ssoProviderByID(ctx, s.db, providerID, "")
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errSSOProviderNotFound
	}
	allowed := p.UserID == as.User.ID
	if p.orgID() != "" {
		if allowed, err = isOrgAdmin(ctx, s.db, p.orgID(), as.User.ID); err != nil {
			return nil, err
		}
	}
	if !allowed {
		return nil, errSSONoAccess
	}
	return p, nil
}

// relockProvider locks, for the change a caller makes, the provider accessibleProvider allowed
// them: deleted, or replaced by another row with its providerId since, it is not found.
func relockProvider(ctx context.Context, tx pgx.Tx, authorized *ssoProvider) (*ssoProvider, error) {
	p, err := ssoProviderByID(ctx, tx, authorized.ProviderID, "FOR UPDATE")
	if err != nil {
		return nil, err
	}
	if p == nil || p.ID != authorized.ID {
		return nil, errSSOProviderNotFound
	}
	return p, nil
}

// ssoOIDCBody is oidcConfig in register and update bodies (upstream's oidcConfigSchema; update
// takes every field as optional, register requires clientId).
type ssoOIDCBody struct {
	ClientID                    *string        `json:"clientId"`
	ClientSecret                *string        `json:"clientSecret"`
	AuthorizationEndpoint       *string        `json:"authorizationEndpoint"`
	TokenEndpoint               *string        `json:"tokenEndpoint"`
	UserInfoEndpoint            *string        `json:"userInfoEndpoint"`
	TokenEndpointAuthentication *string        `json:"tokenEndpointAuthentication"`
	PrivateKeyID                *string        `json:"privateKeyId"`
	PrivateKeyAlgorithm         *string        `json:"privateKeyAlgorithm"`
	JWKSEndpoint                *string        `json:"jwksEndpoint"`
	DiscoveryEndpoint           *string        `json:"discoveryEndpoint"`
	SkipDiscovery               *bool          `json:"skipDiscovery"`
	Scopes                      []string       `json:"scopes"`
	PKCE                        *bool          `json:"pkce"`
	OverrideUserInfo            *bool          `json:"overrideUserInfo"`
	Mapping                     metadataObject `json:"mapping"`

	mapping *ssoMapping // Mapping, decoded
	raw     map[string]json.RawMessage
}

// ssoEndpointFields are the body's endpoint URLs in upstream's order of validation.
func (o *ssoOIDCBody) endpoints() [][2]string {
	return [][2]string{
		{"authorizationEndpoint", deref(o.AuthorizationEndpoint)},
		{"tokenEndpoint", deref(o.TokenEndpoint)},
		{"userInfoEndpoint", deref(o.UserInfoEndpoint)},
		{"jwksEndpoint", deref(o.JWKSEndpoint)},
		{"discoveryEndpoint", deref(o.DiscoveryEndpoint)},
	}
}

// decodeSSOOIDCBody decodes body.oidcConfig with decode's rules and upstream's refinements.
func decodeSSOOIDCBody(raw json.RawMessage, requireClientID bool) (*ssoOIDCBody, []string, error) {
	var o ssoOIDCBody
	if err := decodeNested(raw, &o, "body.oidcConfig"); err != nil {
		return nil, nil, err
	}
	if requireClientID && o.ClientID == nil {
		return nil, nil, validationError("[body.oidcConfig.clientId] Invalid input: expected string, received undefined")
	}
	if m := o.TokenEndpointAuthentication; m != nil && !slices.Contains([]string{"client_secret_post", "client_secret_basic", "private_key_jwt"}, *m) {
		return nil, nil, validationError(`[body.oidcConfig.tokenEndpointAuthentication] Invalid option: expected one of "client_secret_post"|"client_secret_basic"|"private_key_jwt"`)
	}
	if len(o.Mapping) > 0 {
		o.mapping = &ssoMapping{}
		if err := decodeNested(json.RawMessage(o.Mapping), o.mapping, "body.oidcConfig.mapping"); err != nil {
			return nil, nil, err
		}
	}
	_ = json.Unmarshal(raw, &o.raw) // decodeNested proved raw is an object
	var issues []string
	for _, e := range o.endpoints() {
		if _, ok := o.raw[e[0]]; ok && !isURL(e[1]) {
			issues = append(issues, "[body.oidcConfig."+e[0]+"] Invalid URL")
		}
	}
	return &o, issues, nil
}

// checkSSOConfigs applies what upstream's body schema checks beyond types to a register or update
// body: the issuer (when given) and every endpoint must be URLs, all such issues answered at once.
// It returns the decoded oidcConfig and samlConfig, if any.
func checkSSOConfigs(issuer *string, oidcRaw, samlRaw metadataObject, register bool) (*ssoOIDCBody, *samlConfig, error) {
	var issues []string
	if issuer != nil && !isURL(*issuer) {
		issues = append(issues, "[body.issuer] Invalid URL")
	}
	var oidc *ssoOIDCBody
	var saml *samlConfig
	var more []string
	var err error
	if len(oidcRaw) > 0 {
		if oidc, more, err = decodeSSOOIDCBody(json.RawMessage(oidcRaw), register); err != nil {
			return nil, nil, err
		}
		issues = append(issues, more...)
	}
	if len(samlRaw) > 0 {
		if saml, more, err = decodeSAMLBody(json.RawMessage(samlRaw), register); err != nil {
			return nil, nil, err
		}
		issues = append(issues, more...)
	}
	if len(issues) > 0 {
		return nil, nil, validationError(issues...)
	}
	return oidc, saml, nil
}

// isURL is zod's url(): a string that parses as an absolute URL, surrounding spaces ignored.
func isURL(s string) bool {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" {
		return false
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		return u.Host != ""
	}
	return u.Opaque != "" || u.Host != "" || u.Path != ""
}

type ssoRegisterBody struct {
	ProviderID       string         `json:"providerId" required:"true"`
	Issuer           string         `json:"issuer" required:"true"`
	Domain           string         `json:"domain" required:"true"`
	OIDCConfig       metadataObject `json:"oidcConfig"`
	SAMLConfig       metadataObject `json:"samlConfig"`
	OrganizationID   string         `json:"organizationId"`
	OverrideUserInfo bool           `json:"overrideUserInfo"`
}

// handleSSORegister registers an identity provider (upstream packages/sso/src/routes/sso.ts,
// registerSSOProvider), for the caller or, as one of its owners or admins, for an organization.
func (s *server) handleSSORegister(w http.ResponseWriter, r *http.Request) error {
	var body ssoRegisterBody
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	oidc, saml, err := checkSSOConfigs(&body.Issuer, body.OIDCConfig, body.SAMLConfig, true)
	if err != nil {
		return err
	}
	body.Issuer = strings.TrimSpace(body.Issuer)
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.checkSSORegistration(ctx, as.User.ID, &body); err != nil {
		return err
	}
	var cfg *ssoOIDCConfig
	if oidc != nil {
		if cfg, err = s.registeredOIDCConfig(r, &body, oidc); err != nil {
			return err
		}
	}
	p, err := s.newSSOProvider(as.User.ID, &body, cfg, saml)
	if err != nil {
		return err
	}
	var token string
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		token, err = s.insertSSOProvider(ctx, tx, &p)
		return err
	})
	if err != nil {
		return err
	}
	out := map[string]any{
		"id": p.ID, "issuer": p.Issuer, "oidcConfig": cfg, "samlConfig": storedJSON(p.SAMLConfig), "userId": p.UserID,
		"providerId": p.ProviderID, "organizationId": p.OrganizationID, "domain": p.Domain,
		"redirectURI": s.ssoRedirectURI(r, p.ProviderID),
	}
	if s.cfg.SSO.DomainVerification {
		out["domainVerified"] = false
		out["domainVerificationToken"] = token
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkSSORegistration applies register's rules before anything is stored: the caller's quota, an
// organization the caller administers, and a free, usable provider id.
func (s *server) checkSSORegistration(ctx context.Context, userID string, body *ssoRegisterBody) error {
	if err := s.checkProviderQuota(ctx, s.db, userID); err != nil {
		return err
	}
	if body.OrganizationID != "" {
		m, err := memberOf(ctx, s.db, body.OrganizationID, userID)
		if err != nil {
			return err
		}
		if m == nil {
			return errSSONotOrgMember
		}
		if !hasRole(m.Role, creatorRole) && !hasRole(m.Role, "admin") {
			return errSSONotOrgAdmin
		}
	}
	if s.ssoIDReserved(body.ProviderID) {
		return errSSOReservedID
	}
	// The id becomes a path segment of the callback URL the identity provider redirects to.
	if body.ProviderID == "" || url.PathEscape(body.ProviderID) != body.ProviderID {
		return errSSOProviderIDInvalid
	}
	existing, err := ssoProviderByID(ctx, s.db, body.ProviderID, "")
	if err != nil {
		return err
	}
	if existing != nil {
		return errSSOProviderExists
	}
	return nil
}

// newSSOProvider is the row register stores, its OIDC client secret sealed, its SAML
// configuration checked.
func (s *server) newSSOProvider(userID string, body *ssoRegisterBody, cfg *ssoOIDCConfig, saml *samlConfig) (ssoProvider, error) {
	p := ssoProvider{ID: generateID(32), Issuer: body.Issuer, UserID: userID, ProviderID: body.ProviderID, Domain: body.Domain}
	if saml != nil {
		text, err := registeredSAMLConfig(body.Issuer, saml)
		if err != nil {
			return ssoProvider{}, err
		}
		p.SAMLConfig = &text
	}
	if body.OrganizationID != "" {
		p.OrganizationID = &body.OrganizationID
	}
	verified := false
	p.DomainVerified = &verified
	if cfg != nil {
		sealed := *cfg
		var err error
		if sealed.ClientSecret, err = s.symmetricEncrypt(cfg.ClientSecret); err != nil {
			return ssoProvider{}, err
		}
		text, err := json.Marshal(sealed)
		if err != nil {
			return ssoProvider{}, fmt.Errorf("encode oidc config: %w", err)
		}
		p.OIDCConfig = new(string)
		*p.OIDCConfig = string(text)
	}
	return p, nil
}

// insertSSOProvider stores p, within the owner's quota checked again under a per-user lock, and
// returns the domain verification token when domains must be verified.
func (s *server) insertSSOProvider(ctx context.Context, tx pgx.Tx, p *ssoProvider) (string, error) {
	// Checked again under a per-user lock: two registrations at once cannot pass the limit.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('ssoProvider'), hashtext($1))`, p.UserID); err != nil {
		return "", fmt.Errorf("lock sso providers: %w", err)
	}
	if err := s.checkProviderQuota(ctx, tx, p.UserID); err != nil {
		return "", err
	}
	_, err := tx.Exec(ctx, `INSERT INTO "ssoProvider" (id, issuer, "oidcConfig", "samlConfig", "userId", "providerId", "organizationId", domain, "domainVerified")
		VALUES ($1, $2, $3, $9, $4, $5, $6, $7, $8)`,
		p.ID, p.Issuer, p.OIDCConfig, p.UserID, p.ProviderID, p.OrganizationID, p.Domain, p.DomainVerified, p.SAMLConfig)
	if isUniqueViolation(err, "") {
		return "", errSSOProviderExists
	}
	if err != nil {
		return "", fmt.Errorf("create sso provider: %w", err)
	}
	if !s.cfg.SSO.DomainVerification {
		return "", nil
	}
	token := randomString(24, defaultAlpha)
	return token, s.createVerification(ctx, tx, domainVerificationID(p.ProviderID), token, s.now().Add(domainVerificationTTL))
}

// checkProviderQuota refuses a registration past SSO_PROVIDERS_LIMIT.
func (s *server) checkProviderQuota(ctx context.Context, q querier, userID string) error {
	limit := s.cfg.SSO.providersLimit()
	if limit == 0 {
		return errSSORegistrationOff
	}
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM "ssoProvider" WHERE "userId" = $1`, userID).Scan(&n); err != nil {
		return fmt.Errorf("count sso providers: %w", err)
	}
	if n >= limit {
		return errSSOProvidersLimit
	}
	return nil
}

// ssoIDReserved: upstream's own account provider ids, the social providers and the providers
// account linking trusts by name.
func (s *server) ssoIDReserved(id string) bool {
	if slices.Contains(ssoReservedIDs, id) || slices.Contains(s.cfg.OAuth.TrustedProviders, id) {
		return true
	}
	return slices.ContainsFunc(s.cfg.OAuth.Providers, func(p providerConfig) bool { return p.ID == id })
}

// ssoRedirectURI is where a provider sends the browser back: upstream's getOIDCRedirectURI.
func (s *server) ssoRedirectURI(r *http.Request, providerID string) string {
	return s.baseURL(r) + "/sso/callback/" + providerID
}

// registeredOIDCConfig builds the stored configuration of a registration, as upstream's
// buildOIDCConfig: the body's endpoints (each public or on a trusted origin) and, unless
// skipDiscovery, the rest from the provider's discovery document.
func (s *server) registeredOIDCConfig(r *http.Request, body *ssoRegisterBody, o *ssoOIDCBody) (*ssoOIDCConfig, error) {
	for _, e := range o.endpoints() {
		if e[1] != "" {
			if err := s.checkOIDCEndpoint(r, e[0], e[1]); err != nil {
				return nil, err
			}
		}
	}
	cfg := &ssoOIDCConfig{
		Issuer:                      body.Issuer,
		ClientID:                    deref(o.ClientID),
		ClientSecret:                deref(o.ClientSecret),
		AuthorizationEndpoint:       deref(o.AuthorizationEndpoint),
		TokenEndpoint:               deref(o.TokenEndpoint),
		TokenEndpointAuthentication: deref(o.TokenEndpointAuthentication),
		PrivateKeyID:                deref(o.PrivateKeyID),
		PrivateKeyAlgorithm:         deref(o.PrivateKeyAlgorithm),
		JWKSEndpoint:                deref(o.JWKSEndpoint),
		PKCE:                        o.PKCE,
		DiscoveryEndpoint:           deref(o.DiscoveryEndpoint),
		Mapping:                     o.mapping,
		Scopes:                      o.Scopes,
		UserInfoEndpoint:            deref(o.UserInfoEndpoint),
		OverrideUserInfo:            body.OverrideUserInfo,
	}
	if cfg.PKCE == nil {
		pkce := true // zod's default(true)
		cfg.PKCE = &pkce
	}
	if o.SkipDiscovery != nil && *o.SkipDiscovery {
		if cfg.TokenEndpointAuthentication == "" {
			cfg.TokenEndpointAuthentication = "client_secret_basic"
		}
		if cfg.DiscoveryEndpoint == "" {
			cfg.DiscoveryEndpoint = body.Issuer + "/.well-known/openid-configuration"
		}
	} else {
		if err := s.discoverInto(r, body.Issuer, cfg); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.TokenEndpointAuthentication == "private_key_jwt":
		// Upstream needs a resolvePrivateKey callback or a static provider for this; we have neither.
		return nil, errSSOPrivateKeyJWT
	case cfg.ClientSecret == "":
		return nil, errSSOClientSecret
	}
	return cfg, nil
}

// ssoSanitized is how list, get and update show a provider: no secret, the client id masked.
type ssoSanitized struct {
	ProviderID     string          `json:"providerId"`
	Type           string          `json:"type"`
	Issuer         string          `json:"issuer"`
	Domain         string          `json:"domain"`
	OrganizationID *string         `json:"organizationId"`
	DomainVerified bool            `json:"domainVerified"`
	OIDCConfig     *ssoSanitizedCf `json:"oidcConfig,omitempty"`
	SAMLConfig     map[string]any  `json:"samlConfig,omitempty"`
	SPMetadataURL  string          `json:"spMetadataUrl"`
}

type ssoSanitizedCf struct {
	DiscoveryEndpoint           string   `json:"discoveryEndpoint,omitempty"`
	ClientIDLastFour            string   `json:"clientIdLastFour"`
	PKCE                        *bool    `json:"pkce,omitempty"`
	AuthorizationEndpoint       string   `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint               string   `json:"tokenEndpoint,omitempty"`
	UserInfoEndpoint            string   `json:"userInfoEndpoint,omitempty"`
	JWKSEndpoint                string   `json:"jwksEndpoint,omitempty"`
	Scopes                      []string `json:"scopes,omitempty"`
	TokenEndpointAuthentication string   `json:"tokenEndpointAuthentication,omitempty"`
}

// sanitize is upstream's sanitizeProvider. A SAML provider shows its SAML settings with its IdP
// certificates described (fingerprint, validity, key type), never the certificates themselves.
func (s *server) sanitize(r *http.Request, p *ssoProvider) ssoSanitized {
	out := ssoSanitized{
		ProviderID: p.ProviderID, Type: "oidc", Issuer: p.Issuer, Domain: p.Domain, DomainVerified: s.domainVerified(p),
		SPMetadataURL: s.baseURL(r) + "/sso/saml2/sp/metadata?providerId=" + encodeURIComponent(p.ProviderID),
	}
	if p.orgID() != "" {
		out.OrganizationID = p.OrganizationID
	}
	if c := p.oidcConfig(); c != nil {
		out.OIDCConfig = &ssoSanitizedCf{
			DiscoveryEndpoint: c.DiscoveryEndpoint, ClientIDLastFour: maskClientID(c.ClientID), PKCE: c.PKCE,
			AuthorizationEndpoint: c.AuthorizationEndpoint, TokenEndpoint: c.TokenEndpoint, UserInfoEndpoint: c.UserInfoEndpoint,
			JWKSEndpoint: c.JWKSEndpoint, Scopes: c.Scopes, TokenEndpointAuthentication: c.TokenEndpointAuthentication,
		}
	}
	if p.hasSAML() {
		var saml map[string]any
		if json.Unmarshal([]byte(*p.SAMLConfig), &saml) == nil && saml != nil {
			out.Type = "saml"
			out.SAMLConfig = map[string]any{}
			for _, k := range []string{"entryPoint", "callbackUrl", "idpInitiatedCallbackUrl", "audience", "wantAssertionsSigned",
				"authnRequestsSigned", "identifierFormat", "signatureAlgorithm", "digestAlgorithm"} {
				if v, ok := saml[k]; ok {
					out.SAMLConfig[k] = v
				}
			}
			if c := p.samlConfig(); c != nil && c.signingCerts() != nil {
				out.SAMLConfig["certificate"] = describeCertificates(c.signingCerts())
			}
		}
	}
	return out
}

func maskClientID(id string) string {
	if len(id) <= 4 {
		return "****"
	}
	return "****" + id[len(id)-4:]
}

// handleSSOListProviders lists the providers the caller may manage (upstream
// packages/sso/src/routes/providers.ts): their own without an organization, then those of
// organizations where they are an owner or admin.
func (s *server) handleSSOListProviders(w http.ResponseWriter, r *http.Request) error {
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	providers, err := collect[ssoProvider](r.Context(), s.db, "list sso providers", `SELECT `+ssoProviderColumns+` FROM "ssoProvider" p
		WHERE (p."userId" = $1 AND COALESCE(p."organizationId", '') = '')
		   OR (COALESCE(p."organizationId", '') <> '' AND EXISTS (
				SELECT 1 FROM member m WHERE m."organizationId" = p."organizationId" AND m."userId" = $1
				AND EXISTS (SELECT 1 FROM unnest(string_to_array(m.role, ',')) r WHERE btrim(r) IN ('owner', 'admin'))))
		ORDER BY COALESCE(p."organizationId", '') <> '', p."providerId"`, as.User.ID)
	if err != nil {
		return err
	}
	out := make([]ssoSanitized, 0, len(providers))
	for i := range providers {
		out = append(out, s.sanitize(r, &providers[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": out})
	return nil
}

func (s *server) handleSSOGetProvider(w http.ResponseWriter, r *http.Request) error {
	providerID, err := queryString(r, "providerId", true)
	if err != nil {
		return err
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	p, err := s.accessibleProvider(r.Context(), as, providerID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sanitize(r, p))
	return nil
}

type ssoUpdateBody struct {
	ProviderID string         `json:"providerId" required:"true"`
	Issuer     *string        `json:"issuer"`
	Domain     *string        `json:"domain"`
	OIDCConfig metadataObject `json:"oidcConfig"`
	SAMLConfig metadataObject `json:"samlConfig"`
}

// ssoIdentityFields are the OIDC settings that decide whose accounts a provider signs in; they may
// not change while accounts of the provider exist (upstream's OIDC_IDENTITY_BOUNDARY_FIELDS).
var ssoIdentityFields = []string{"authorizationEndpoint", "clientId", "discoveryEndpoint", "jwksEndpoint", "tokenEndpoint", "userInfoEndpoint"}

// handleSSOUpdateProvider changes a provider's issuer, domain or OIDC settings (upstream
// packages/sso/src/routes/providers.ts). A changed domain must be verified again.
func (s *server) handleSSOUpdateProvider(w http.ResponseWriter, r *http.Request) error {
	var body ssoUpdateBody
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return err
	}
	oidc, saml, err := checkSSOConfigs(body.Issuer, body.OIDCConfig, body.SAMLConfig, false)
	if err != nil {
		return err
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	if deref(body.Issuer) == "" && deref(body.Domain) == "" && oidc == nil && saml == nil {
		return errSSONoUpdateFields
	}
	ctx := r.Context()
	authorized, err := s.accessibleProvider(ctx, as, body.ProviderID)
	if err != nil {
		return err
	}
	var updated *ssoProvider
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		updated, err = s.updateSSOProvider(tx, r, authorized, &body, oidc, saml)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.sanitize(r, updated))
	return nil
}

// updateSSOProvider applies update-provider's changes to the provider, locked again in tx. A
// change of identity (issuer, client or entity) is refused while accounts are linked to it.
func (s *server) updateSSOProvider(tx pgx.Tx, r *http.Request, authorized *ssoProvider, body *ssoUpdateBody, oidc *ssoOIDCBody, saml *samlConfig) (*ssoProvider, error) {
	ctx := r.Context()
	p, err := relockProvider(ctx, tx, authorized)
	if err != nil {
		return nil, err
	}
	identityChanged := body.Issuer != nil && strings.TrimSpace(*body.Issuer) != p.Issuer
	if body.Issuer != nil {
		p.Issuer = strings.TrimSpace(*body.Issuer)
	}
	if body.Domain != nil {
		if *body.Domain != p.Domain {
			unverified := false
			p.DomainVerified = &unverified
		}
		p.Domain = *body.Domain
	}
	if oidc != nil {
		changed, err := s.mergeOIDCConfig(r, p, body.Issuer != nil, oidc)
		if err != nil {
			return nil, err
		}
		identityChanged = identityChanged || changed
	}
	if saml != nil {
		changed, err := mergeSAMLConfig(p, body.Issuer != nil, json.RawMessage(body.SAMLConfig))
		if err != nil {
			return nil, err
		}
		identityChanged = identityChanged || changed
	}
	if identityChanged {
		var linked bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM account WHERE "providerId" = $1)`, p.ProviderID).Scan(&linked); err != nil {
			return nil, fmt.Errorf("find sso accounts: %w", err)
		}
		if linked {
			return nil, errSSOIdentityLocked
		}
	}
	_, err = tx.Exec(ctx, `UPDATE "ssoProvider" SET issuer = $2, domain = $3, "domainVerified" = $4, "oidcConfig" = $5, "samlConfig" = $6 WHERE id = $1`,
		p.ID, p.Issuer, p.Domain, p.DomainVerified, p.OIDCConfig, p.SAMLConfig)
	if err != nil {
		return nil, fmt.Errorf("update sso provider: %w", err)
	}
	return p, nil
}

// mergeOIDCConfig applies a partial oidcConfig to p as upstream's mergeOIDCConfig does (the
// update's keys over the stored ones, the issuer following the provider's) and reports whether a
// field that decides the provider's identity changed.
func (s *server) mergeOIDCConfig(r *http.Request, p *ssoProvider, issuerUpdated bool, o *ssoOIDCBody) (bool, error) {
	for _, e := range o.endpoints() {
		if e[1] != "" {
			if err := s.checkOIDCEndpoint(r, e[0], e[1]); err != nil {
				return false, err
			}
		}
	}
	var current map[string]json.RawMessage
	if p.OIDCConfig == nil || json.Unmarshal([]byte(*p.OIDCConfig), &current) != nil || current == nil {
		return false, errSSONoOIDCConfig
	}
	merged := make(map[string]json.RawMessage, len(current)+len(o.raw))
	for k, v := range current {
		merged[k] = v
	}
	for k, v := range o.raw {
		merged[k] = v
	}
	if o.ClientSecret != nil {
		sealed, err := s.symmetricEncrypt(*o.ClientSecret)
		if err != nil {
			return false, err
		}
		merged["clientSecret"], _ = json.Marshal(sealed)
	}
	var currentIssuer string
	_ = json.Unmarshal(current["issuer"], &currentIssuer)
	issuer := currentIssuer
	if issuerUpdated && p.Issuer != "" || issuer == "" {
		issuer = p.Issuer
	}
	merged["issuer"], _ = json.Marshal(issuer)
	if _, ok := merged["pkce"]; !ok {
		merged["pkce"] = json.RawMessage("true")
	}
	text, err := json.Marshal(merged)
	if err != nil {
		return false, fmt.Errorf("encode oidc config: %w", err)
	}
	next := &ssoProvider{OIDCConfig: new(string)}
	*next.OIDCConfig = string(text)
	cfg := next.oidcConfig()
	if cfg == nil {
		return false, validationError("[body.oidcConfig] Invalid input")
	}
	switch {
	case cfg.TokenEndpointAuthentication == "private_key_jwt":
		return false, errSSOPrivateKeyJWT
	case s.clientSecret(cfg) == "":
		return false, errSSOClientSecret
	}
	changed := false
	for _, f := range ssoIdentityFields {
		changed = changed || !jsonValuesEqual(current[f], merged[f])
	}
	p.OIDCConfig = next.OIDCConfig
	return changed, nil
}

// jsonValuesEqual compares two stored JSON values (nil: absent) as upstream's stableStringify.
func jsonValuesEqual(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	var bx, by bytes.Buffer
	if writeJS(&bx, normalizeNumbers(x)) != nil || writeJS(&by, normalizeNumbers(y)) != nil {
		return bytes.Equal(a, b)
	}
	return bx.String() == by.String()
}

// normalizeNumbers turns the float64s json.Unmarshal makes into json.Numbers writeCanonical takes.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case []any:
		for i := range x {
			x[i] = normalizeNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalizeNumbers(x[k])
		}
	}
	return v
}

type ssoProviderIDBody struct {
	ProviderID string `json:"providerId" required:"true"`
}

// handleSSODeleteProvider removes a provider and the accounts it signed in (upstream providers.ts);
// their users stay, with whatever other ways in they have.
func (s *server) handleSSODeleteProvider(w http.ResponseWriter, r *http.Request) error {
	var body ssoProviderIDBody
	as, err := s.sessionRequest(w, r, &body, anySession)
	if err != nil {
		return err
	}
	ctx := r.Context()
	authorized, err := s.accessibleProvider(ctx, as, body.ProviderID)
	if err != nil {
		return err
	}
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		p, err := relockProvider(ctx, tx, authorized)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM account WHERE "providerId" = $1`, p.ProviderID); err != nil {
			return fmt.Errorf("delete sso accounts: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM "ssoProvider" WHERE id = $1`, p.ID); err != nil {
			return fmt.Errorf("delete sso provider: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successTrue)
	return nil
}
