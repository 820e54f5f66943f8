package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OpenID Connect pieces shared by social sign-in and enterprise SSO: the outbound HTTP client,
// discovery, ID token verification against a provider's JWKS, and reading the claims of an ID
// token that came straight from a token endpoint.

// providerHTTPTimeout bounds every call to an identity provider, so a slow one cannot hold a
// request (and its database connection) for long.
const providerHTTPTimeout = 10 * time.Second

// maxProviderResponse caps what we read from a provider; no legitimate answer comes near it.
const maxProviderResponse = 1 << 20

var errProviderRedirect = errors.New("identity provider answered with a redirect")

// newProviderHTTPClient returns the client for token, profile, discovery and JWKS requests. It
// refuses redirects, as upstream's fetchRefusingRedirects does: a provider endpoint that redirects
// could otherwise steer our server-side requests (and the bearer tokens they carry) elsewhere.
func newProviderHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       providerHTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errProviderRedirect },
	}
}

// withProviderClient makes x/oauth2 and go-oidc send their requests through client.
func withProviderClient(ctx context.Context, client *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, client)
}

// oidcEndpoints is what discovery tells us about an OpenID provider (OpenID Connect Discovery 1.0
// section 3), and what a configuration without discovery gives by hand.
type oidcEndpoints struct {
	Issuer        string
	Authorization string
	Token         string
	UserInfo      string
	JWKS          string
	EndSession    string
	SigningAlgs   []string // empty: RS256, the algorithm every provider must support
}

// discoverOIDC reads issuer's /.well-known/openid-configuration. go-oidc refuses a document whose
// issuer differs from the one asked for (Discovery section 4.3), which stops a discovery document from
// impersonating another issuer.
func discoverOIDC(ctx context.Context, client *http.Client, issuer string) (*oidcEndpoints, error) {
	p, err := oidc.NewProvider(withProviderClient(ctx, client), issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	var doc struct {
		UserInfo    string   `json:"userinfo_endpoint"`
		JWKS        string   `json:"jwks_uri"`
		EndSession  string   `json:"end_session_endpoint"`
		SigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&doc); err != nil {
		return nil, fmt.Errorf("discover %s: %w", issuer, err)
	}
	ep := p.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" || doc.JWKS == "" {
		return nil, fmt.Errorf("discover %s: the document lacks an authorization, token or jwks endpoint", issuer)
	}
	return &oidcEndpoints{
		Issuer:        issuer,
		Authorization: ep.AuthURL,
		Token:         ep.TokenURL,
		UserInfo:      doc.UserInfo,
		JWKS:          doc.JWKS,
		EndSession:    doc.EndSession,
		SigningAlgs:   doc.SigningAlgs,
	}, nil
}

// idTokenLeeway is the clock skew allowed on exp, nbf and iat, as upstream (and openid-client).
const idTokenLeeway = 30 * time.Second

// idTokenVerifier checks ID tokens of one provider (OpenID Connect Core 1.0 section 3.1.3.7).
type idTokenVerifier struct {
	keys        oidc.KeySet
	issuers     []string // the token's iss must be one of them; empty: checkClaims decides
	audiences   []string // the token's aud must name one of them
	algs        []string // accepted signature algorithms; empty: RS256
	maxAge      time.Duration
	nonceSHA256 bool                             // Apple: the nonce claim may be the hex SHA-256 of the nonce
	checkClaims func(claims map[string]any) bool // provider-specific rules (Microsoft tenants, Google hd)
}

// newIDTokenVerifier verifies against the key set at jwksURL. The key set is cached and fetched
// again when a token names a key it does not hold, which is how providers rotate keys (Core section
// 10.1).
func newIDTokenVerifier(client *http.Client, jwksURL string) *idTokenVerifier {
	return &idTokenVerifier{keys: oidc.NewRemoteKeySet(withProviderClient(context.Background(), client), jwksURL)}
}

var (
	errIDTokenClaims = errors.New("id token claims rejected")
	errIDTokenNonce  = errors.New("id token nonce does not match")
)

// verify checks raw's signature, algorithm, issuer, audience, expiry, age and, when nonce is not
// empty, its nonce, and returns its claims. now is the server's clock.
func (v *idTokenVerifier) verify(ctx context.Context, raw, nonce string, now time.Time) (map[string]any, error) {
	if len(v.audiences) == 0 {
		return nil, errors.New("id token audience is not configured")
	}
	verifier := oidc.NewVerifier("", v.keys, &oidc.Config{
		SkipClientIDCheck:    true, // checked below against every accepted audience
		SkipIssuerCheck:      true, // checked below against every accepted issuer
		SupportedSigningAlgs: v.algs,
		Now:                  func() time.Time { return now.Add(-idTokenLeeway) },
	})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if len(v.issuers) > 0 && !slices.Contains(v.issuers, tok.Issuer) {
		return nil, fmt.Errorf("%w: issuer %q", errIDTokenClaims, tok.Issuer)
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(v.audiences, a) }) {
		return nil, fmt.Errorf("%w: audience %q", errIDTokenClaims, tok.Audience)
	}
	if tok.Subject == "" || tok.IssuedAt.IsZero() {
		return nil, fmt.Errorf("%w: sub and iat are required", errIDTokenClaims)
	}
	if tok.IssuedAt.After(now.Add(idTokenLeeway)) || v.maxAge > 0 && now.Sub(tok.IssuedAt) > v.maxAge+idTokenLeeway {
		return nil, fmt.Errorf("%w: issued at %v", errIDTokenClaims, tok.IssuedAt)
	}
	if nonce != "" && !v.nonceMatches(tok.Nonce, nonce) {
		return nil, errIDTokenNonce
	}
	claims, err := jwtClaims(raw)
	if err != nil {
		return nil, err
	}
	if v.checkClaims != nil && !v.checkClaims(claims) {
		return nil, errIDTokenClaims
	}
	return claims, nil
}

func (v *idTokenVerifier) nonceMatches(claim, nonce string) bool {
	if hmac.Equal([]byte(claim), []byte(nonce)) {
		return true
	}
	if !v.nonceSHA256 {
		return false
	}
	sum := sha256.Sum256([]byte(nonce))
	return hmac.Equal([]byte(claim), []byte(hex.EncodeToString(sum[:])))
}

// jwtClaims reads a JWT's payload without checking its signature. It is only for ID tokens that
// came from the provider's token endpoint over TLS, which Core section 3.1.3.7 lets a client trust
// without a signature check, and for reading claims after verify succeeded.
func jwtClaims(raw string) (map[string]any, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("jwt: not three segments")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("jwt: payload: %w", err)
	}
	return decodeJSONObject(bytes.NewReader(payload))
}

// decodeJSONObject reads one JSON object keeping numbers as written, so that a numeric provider
// id (GitHub's 12345) becomes the account id "12345" and never "1.2345e+04".
func decodeJSONObject(r io.Reader) (map[string]any, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxProviderResponse))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode json: %w", err)
	}
	if m == nil {
		return nil, errors.New("decode json: not an object")
	}
	return m, nil
}

// claimString returns a string claim, or "" when it is absent or another type.
func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// claimBool reads a boolean that some providers send as a string, as upstream's
// parseStringBoolean: true and "true" are true, anything else false.
func claimBool(claims map[string]any, name string) bool {
	switch v := claims[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// claimID returns an identifier claim as upstream's String(value): strings as they are, numbers as
// written. Absent, null, empty or other types give "".
func claimID(claims map[string]any, name string) string {
	switch v := claims[name].(type) {
	case string:
		if strings.TrimSpace(v) == "" {
			return ""
		}
		return v
	case json.Number:
		return v.String()
	}
	return ""
}
