package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/coreos/go-oidc/v3/oidc"
)

// The identity provider endpoints of enterprise SSO are URLs a signed-in user typed, fetched by our
// server. Upstream's rules (upstream packages/sso/src/oidc/discovery.ts) keep that from becoming a
// way into the internal network (SSRF): a discovery document, and every endpoint it names, must be
// on a trusted origin; an endpoint given by hand must be on a trusted origin or a publicly routable
// host. We enforce the second rule again where it matters, on the address actually dialled.

// ssoDiscoveryError is one of upstream's DiscoveryError codes with its HTTP answer.
func ssoDiscoveryError(code, message string) *apiError {
	status := http.StatusBadRequest
	if code == "discovery_timeout" || code == "discovery_unexpected_error" {
		status = http.StatusBadGateway
	}
	return apiErr(status, code, message)
}

// errDiscoveryUnexpected is upstream's answer to a discovery request that failed on the way, without
// upstream's appended error text.
var errDiscoveryUnexpected = ssoDiscoveryError("discovery_unexpected_error", "OIDC discovery failed: Unexpected error during discovery")

// parseEndpoint is upstream's parseURL: an http(s) URL, else discovery_invalid_url.
func parseEndpoint(name, endpoint string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" && (u.Scheme == "http" || u.Scheme == "https") {
		return nil, ssoDiscoveryError("discovery_invalid_url", fmt.Sprintf("Invalid OIDC endpoint URL: The url %q must be valid: %s", name, endpoint))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, ssoDiscoveryError("discovery_invalid_url", fmt.Sprintf("Invalid OIDC endpoint URL: The url %q must use the http or https supported protocols: %s", name, endpoint))
	}
	return u, nil
}

// checkOIDCEndpoint is upstream's validateOIDCEndpointUrl for an endpoint given by hand: public,
// or on a trusted origin (an internal IdP the operator allowed).
func (s *server) checkOIDCEndpoint(r *http.Request, name, endpoint string) error {
	u, err := parseEndpoint(name, endpoint)
	if err != nil {
		return err
	}
	if publicHost(u.Hostname()) || s.isTrustedURL(r, u.String(), false) {
		return nil
	}
	return ssoDiscoveryError("discovery_private_host", fmt.Sprintf("The %s URL (%s) is not publicly routable: %s. If this is an internal IdP, add its origin to trustedOrigins.", name, u.String(), u.Hostname()))
}

// oidcDiscoveryDoc is the part of a discovery document (OpenID Connect Discovery 1.0 section 3) we use.
type oidcDiscoveryDoc struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	UserInfoEndpoint      string   `json:"userinfo_endpoint"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

// discoverInto is upstream's discoverOIDCConfig: it reads the issuer's discovery document (at
// cfg.DiscoveryEndpoint when given) and fills the endpoints cfg lacks; values already in cfg win.
func (s *server) discoverInto(r *http.Request, issuer string, cfg *ssoOIDCConfig) error {
	discoveryURL := cfg.DiscoveryEndpoint
	if discoveryURL == "" {
		discoveryURL = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	}
	u, err := parseEndpoint("discoveryEndpoint", discoveryURL)
	if err != nil {
		return err
	}
	if !s.isTrustedURL(r, u.String(), false) {
		return ssoDiscoveryError("discovery_untrusted_origin", fmt.Sprintf("Untrusted OIDC discovery URL: The main discovery endpoint %q is not trusted by your trusted origins configuration.", u.String()))
	}
	doc, err := s.fetchDiscovery(r.Context(), u.String())
	if err != nil {
		return err
	}
	var missing []string
	for _, f := range [][2]string{{"issuer", doc.Issuer}, {"authorization_endpoint", doc.AuthorizationEndpoint}, {"token_endpoint", doc.TokenEndpoint}, {"jwks_uri", doc.JWKSURI}} {
		if f[1] == "" {
			missing = append(missing, f[0])
		}
	}
	if len(missing) > 0 {
		return ssoDiscoveryError("discovery_incomplete", "OIDC discovery document is missing required fields: Discovery document is missing required fields: "+strings.Join(missing, ", "))
	}
	// Discovery section 4.3: a document for another issuer must not configure this one.
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return ssoDiscoveryError("issuer_mismatch", fmt.Sprintf("OIDC issuer mismatch: Discovered issuer %q does not match configured issuer %q", doc.Issuer, issuer))
	}
	endpoints := []struct {
		name string
		src  string
		dst  *string
	}{
		{"token_endpoint", doc.TokenEndpoint, &cfg.TokenEndpoint},
		{"authorization_endpoint", doc.AuthorizationEndpoint, &cfg.AuthorizationEndpoint},
		{"jwks_uri", doc.JWKSURI, &cfg.JWKSEndpoint},
		{"userinfo_endpoint", doc.UserInfoEndpoint, &cfg.UserInfoEndpoint},
	}
	for _, e := range endpoints {
		if e.src == "" {
			continue
		}
		resolved, err := resolveDiscoveredURL(e.name, e.src, issuer)
		if err != nil {
			return err
		}
		if !s.isTrustedURL(r, resolved, false) {
			return ssoDiscoveryError("discovery_untrusted_origin", fmt.Sprintf("Untrusted OIDC discovery URL: The %s %q is not trusted by your trusted origins configuration.", e.name, resolved))
		}
		if *e.dst == "" {
			*e.dst = resolved
		}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = doc.Issuer
	}
	if cfg.DiscoveryEndpoint == "" {
		cfg.DiscoveryEndpoint = discoveryURL
	}
	if cfg.TokenEndpointAuthentication == "" {
		cfg.TokenEndpointAuthentication = tokenAuthMethod(doc.TokenAuthMethods)
	}
	return nil
}

// tokenAuthMethod is upstream's choice among what the provider supports.
func tokenAuthMethod(supported []string) string {
	for _, m := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
		if slices.Contains(supported, m) {
			return m
		}
	}
	return "client_secret_basic"
}

// resolveDiscoveredURL is upstream's normalizeUrl: an absolute URL as it is, a relative one under
// the issuer's path.
func resolveDiscoveredURL(name, endpoint, issuer string) (string, error) {
	if u, err := url.Parse(endpoint); err == nil && u.IsAbs() {
		if _, err := parseEndpoint(name, endpoint); err != nil {
			return "", err
		}
		return u.String(), nil
	}
	base, err := parseEndpoint(name, issuer)
	if err != nil {
		return "", err
	}
	u, err := base.Parse(strings.TrimRight(base.Path, "/") + "/" + strings.TrimLeft(endpoint, "/"))
	if err != nil {
		return "", ssoDiscoveryError("discovery_invalid_url", fmt.Sprintf("Invalid OIDC endpoint URL: The url %q must be valid: %s", name, endpoint))
	}
	return u.String(), nil
}

// fetchDiscovery GETs a discovery document, mapping failures to upstream's codes.
func (s *server) fetchDiscovery(ctx context.Context, u string) (*oidcDiscoveryDoc, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, ssoDiscoveryError("discovery_invalid_url", fmt.Sprintf("Invalid OIDC endpoint URL: The url \"discoveryEndpoint\" must be valid: %s", u))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.ssoClient.Do(req)
	if err != nil {
		var ne net.Error
		switch {
		case errors.Is(err, errProviderRedirect):
			return nil, ssoDiscoveryError("oidc_endpoint_redirect", fmt.Sprintf("The discoveryEndpoint (%s) returned an HTTP redirect. Configure the final OIDC endpoint URL instead of a redirecting URL.", u))
		case errors.As(err, &ne) && ne.Timeout():
			return nil, ssoDiscoveryError("discovery_timeout", "OIDC discovery timed out: Discovery request timed out")
		}
		// The network error names addresses the server dialled; it goes to the log, not to the
		// caller, who could otherwise map the internal network through it.
		slog.WarnContext(ctx, "oidc discovery failed", "err", err)
		return nil, errDiscoveryUnexpected
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, ssoDiscoveryError("discovery_not_found", "OIDC discovery endpoint not found. The issuer may not support OIDC discovery, or the URL is incorrect. Discovery endpoint not found")
	case resp.StatusCode == http.StatusRequestTimeout:
		return nil, ssoDiscoveryError("discovery_timeout", "OIDC discovery timed out: Discovery request timed out")
	case resp.StatusCode/100 != 2:
		return nil, ssoDiscoveryError("discovery_unexpected_error", "OIDC discovery failed: Unexpected discovery error: "+http.StatusText(resp.StatusCode))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		slog.WarnContext(ctx, "oidc discovery read failed", "err", err)
		return nil, errDiscoveryUnexpected
	}
	var doc oidcDiscoveryDoc
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, ssoDiscoveryError("discovery_invalid_json", "OIDC discovery returned invalid data: Discovery endpoint returned an empty response")
	}
	if jsonKind(raw) != "object" || json.Unmarshal(raw, &doc) != nil {
		return nil, ssoDiscoveryError("discovery_invalid_json", "OIDC discovery returned invalid data: Discovery endpoint returned invalid JSON")
	}
	return &doc, nil
}

// ensureEndpoints is upstream's ensureRuntimeDiscovery: a provider stored without its
// authorization, token or JWKS endpoint is discovered now; then every endpoint our server fetches
// must be public or trusted.
func (s *server) ensureEndpoints(r *http.Request, p *ssoProvider, cfg *ssoOIDCConfig) error {
	if cfg.AuthorizationEndpoint == "" || cfg.TokenEndpoint == "" || cfg.JWKSEndpoint == "" {
		if err := s.discoverInto(r, p.Issuer, cfg); err != nil {
			return err
		}
	}
	for _, e := range [][2]string{{"tokenEndpoint", cfg.TokenEndpoint}, {"userInfoEndpoint", cfg.UserInfoEndpoint}, {"jwksEndpoint", cfg.JWKSEndpoint}} {
		if e[1] != "" {
			if err := s.checkOIDCEndpoint(r, e[0], e[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// cloudMetadataHosts name instance metadata services, the classic SSRF target (upstream's list).
var cloudMetadataHosts = []string{"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}

// publicHost is upstream's isPublicRoutableHost on a URL's hostname: a name other than localhost
// and the metadata services, or an address publicAddr accepts. A name may still resolve to an
// internal address; the SSO client checks the address it dials.
func publicHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	if h == "" {
		return false
	}
	addr, err := netip.ParseAddr(h)
	if err != nil {
		return h != "localhost" && !strings.HasSuffix(h, ".localhost") && !slices.Contains(cloudMetadataHosts, h)
	}
	return publicAddr(addr)
}

// nonPublicPrefixes are the special-purpose ranges of RFC 6890 (and its IPv6 successors) that
// netip's predicates do not already cover.
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (carrier NAT)
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), // documentation
	netip.MustParsePrefix("192.88.99.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"),          // IPv4-compatible
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: could reach an internal IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"), // local NAT64
	netip.MustParsePrefix("100::/64"),       // discard
	netip.MustParsePrefix("2001::/32"),      // Teredo
	netip.MustParsePrefix("2001:2::/48"),    // benchmarking
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("3fff::/20"),      // documentation
	netip.MustParsePrefix("5f00::/16"),      // segment routing
	netip.MustParsePrefix("fec0::/10"),      // site-local
}

var sixToFour = netip.MustParsePrefix("2002::/16")

// publicAddr reports whether a is a publicly routable unicast address: not loopback, private,
// link-local, multicast, unspecified or any special-purpose range.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	if sixToFour.Contains(a) {
		b := a.As16()
		return publicAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var errPrivateAddress = errors.New("identity provider address is not publicly routable")

// newSSOClient returns the client for every request to an SSO provider. Like the social providers'
// client it refuses redirects and bounds time and size; in addition, a request to an origin that
// is not trusted may only connect to a public address. The check runs on the address being
// dialled, after DNS, so a name that resolves (or rebinds) to an internal address is refused too.
// Trusted origins (an internal Keycloak) are reached as they are, through any configured proxy.
func newSSOClient(trusted func(u *url.URL) bool) *http.Client {
	open := http.DefaultTransport.(*http.Transport).Clone()
	public := http.DefaultTransport.(*http.Transport).Clone()
	public.Proxy = nil // a proxy's own address would be the one checked
	public.DialContext = (&net.Dialer{
		Timeout: providerHTTPTimeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			addr, err := netip.ParseAddr(host)
			if err != nil || !publicAddr(addr) {
				return errPrivateAddress
			}
			return nil
		},
	}).DialContext
	return &http.Client{
		Timeout:       providerHTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errProviderRedirect },
		Transport:     &ssoTransport{trusted: trusted, open: open, public: public},
	}
}

type ssoTransport struct {
	trusted      func(u *url.URL) bool
	open, public http.RoundTripper
}

func (t *ssoTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.trusted(req.URL) {
		return t.open.RoundTrip(req)
	}
	return t.public.RoundTrip(req)
}

// configTrusted reports whether u is on a configured trusted origin (BETTER_AUTH_URL's or one of
// TRUSTED_ORIGINS): the request-independent part of isTrustedURL, for the shared SSO client.
func (s *server) configTrusted(u *url.URL) bool {
	patterns := s.cfg.TrustedOrigins
	if s.cfg.BaseURL != "" {
		patterns = append([]string{s.cfg.BaseURL}, patterns...)
	}
	return slices.ContainsFunc(patterns, func(p string) bool { return matchesOriginPattern(u.String(), p, false) })
}

// keySetCache holds one remote key set per JWKS URL, so a callback does not fetch a provider's keys
// each time. go-oidc fetches a set again when a token names a key it lacks, which is how providers
// rotate keys (Core section 10.1). The cache is emptied when full: providers are registered by
// users, and their number must not grow our memory without bound.
type keySetCache struct {
	client *http.Client
	mu     sync.Mutex
	sets   map[string]oidc.KeySet
}

const maxCachedKeySets = 1000

func (c *keySetCache) get(jwksURL string) oidc.KeySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ks, ok := c.sets[jwksURL]; ok {
		return ks
	}
	if c.sets == nil || len(c.sets) >= maxCachedKeySets {
		c.sets = map[string]oidc.KeySet{}
	}
	ks := oidc.NewRemoteKeySet(withProviderClient(context.Background(), c.client), jwksURL)
	c.sets[jwksURL] = ks
	return ks
}
