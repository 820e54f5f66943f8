package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"testing"
)

// TestPublicHostRefusesInternalDestinations ensures an SSO endpoint given by hand may name only a
// publicly routable host: each row is a way to reach the server's own network (SSRF).
func TestPublicHostRefusesInternalDestinations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host   string
		public bool
	}{
		{"idp.example.com", true},
		{"8.8.8.8", true},
		{"2606:4700::1111", true},
		{"localhost", false},        // the server itself
		{"LOCALHOST.", false},       // trailing dot and case do not hide it
		{"tenant.localhost", false}, // RFC 6761: every .localhost name is loopback
		{"127.0.0.1", false},        // loopback
		{"127.1.2.3", false},        // all of 127/8
		{"[::1]", false},            // IPv6 loopback, as URL.Hostname may leave it bracketed
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"10.0.0.1", false},         // RFC 1918
		{"172.16.5.4", false},       // RFC 1918
		{"192.168.1.1", false},      // RFC 1918
		{"169.254.169.254", false},  // link-local: cloud metadata
		{"metadata.google.internal", false},
		{"100.64.0.1", false},      // carrier-grade NAT
		{"0.0.0.0", false},         // unspecified: reaches localhost on Linux
		{"fc00::1", false},         // unique local
		{"fe80::1%eth0", false},    // link-local with a zone
		{"64:ff9b::a00:1", false},  // NAT64 of 10.0.0.1
		{"2002:a00:1::", false},    // 6to4 of 10.0.0.1
		{"2002:808:808::", true},   // 6to4 of 8.8.8.8
		{"224.0.0.1", false},       // multicast
		{"255.255.255.255", false}, // broadcast
		{"", false},
	}
	for _, tc := range tests {
		if got := publicHost(tc.host); got != tc.public {
			t.Errorf("publicHost(%q) = %v, want %v", tc.host, got, tc.public)
		}
	}
}

// TestSSOClientRefusesInternalAddressesOfUntrustedOrigins ensures the SSO client connects to an
// internal address only for a trusted origin: the check is on the dialled address, so a public
// looking name that resolves inside is refused as well.
func TestSSOClientRefusesInternalAddressesOfUntrustedOrigins(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	for _, trusted := range []bool{false, true} {
		client := newSSOClient(func(*url.URL) bool { return trusted })
		resp, err := client.Get(srv.URL)
		if trusted {
			if err != nil {
				t.Fatalf("trusted origin refused: %v", err)
			}
			resp.Body.Close()
			continue
		}
		if !errors.Is(err, errPrivateAddress) {
			t.Fatalf("untrusted loopback: err = %v, want errPrivateAddress", err)
		}
	}
	if !publicAddr(netip.MustParseAddr("93.184.215.14")) {
		t.Fatal("a public address is refused")
	}
}

// TestSSOProviderFingerprintMatchesUpstream ensures the provider reference a flow carries is the
// one upstream computes for the same stored row (testdata from @better-auth/sso 1.7.5), so a flow
// started on either server finishes on the other.
func TestSSOProviderFingerprintMatchesUpstream(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/sso/fingerprints.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Row struct {
			ID             string  `json:"id"`
			Issuer         string  `json:"issuer"`
			OIDCConfig     *string `json:"oidcConfig"`
			ProviderID     string  `json:"providerId"`
			OrganizationID *string `json:"organizationId"`
			Domain         string  `json:"domain"`
			DomainVerified *bool   `json:"domainVerified"`
		} `json:"row"`
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		// The row has a domainVerified column exactly when upstream ran with domain verification.
		s := &server{cfg: config{SSO: ssoConfig{DomainVerification: tc.Row.DomainVerified != nil}}}
		p := &ssoProvider{ID: tc.Row.ID, Issuer: tc.Row.Issuer, OIDCConfig: tc.Row.OIDCConfig, ProviderID: tc.Row.ProviderID,
			OrganizationID: tc.Row.OrganizationID, Domain: tc.Row.Domain, DomainVerified: tc.Row.DomainVerified}
		got, err := s.fingerprint(p)
		if err != nil || got != tc.Fingerprint {
			t.Errorf("%s: fingerprint = %q (%v), want %q", tc.Row.ProviderID, got, err, tc.Fingerprint)
		}
		// The secret is not part of it: encrypting it changes nothing.
		var cfg map[string]any
		json.Unmarshal([]byte(*p.OIDCConfig), &cfg)
		cfg["clientSecret"] = "0123abcd"
		b, _ := json.Marshal(cfg)
		sealed := string(b)
		p.OIDCConfig = &sealed
		if again, _ := s.fingerprint(p); again != tc.Fingerprint {
			t.Errorf("%s: fingerprint depends on the client secret", tc.Row.ProviderID)
		}
	}
}

// TestDomainMatchesAsUpstream ensures a provider's domain list covers its domains and their
// subdomains, on label boundaries, whatever form the entries take.
func TestDomainMatchesAsUpstream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		search, list string
		match        bool
	}{
		{"acme.com", "acme.com", true},
		{"eu.acme.com", "acme.com", true},
		{"EU.Acme.Com ", "acme.com", true},
		{"notacme.com", "acme.com", false},           // not on a label boundary
		{"acme.com.evil.example", "acme.com", false}, // the provider's domain as a prefix
		{"acme.org", "acme.com, acme.org", true},
		{"acme.org", "https://Acme.org:8443/login", true}, // a URL names its host
		{"acme.com", "*.acme.com", false},                 // not a hostname: the whole list is void
		{"acme.com", "acme.com, bad entry", false},        // one bad entry voids the list
		{"acme.com", "", false},
		{"", "acme.com", false},
	}
	for _, tc := range tests {
		if got := domainMatches(tc.search, tc.list); got != tc.match {
			t.Errorf("domainMatches(%q, %q) = %v, want %v", tc.search, tc.list, got, tc.match)
		}
	}
}

// TestSSOFlagsParse ensures the SSO settings read as documented, and that a default role the
// organizations do not define is refused at start rather than at the first sign-in.
func TestSSOFlagsParse(t *testing.T) {
	t.Parallel()
	parse := func(env map[string]string) (config, error) {
		return loadConfig(nil, func(k string) string { return env[k] })
	}
	c, err := parse(map[string]string{})
	if err != nil || c.SSO.providersLimit() != 10 || c.SSO.defaultRole() != "member" || c.SSO.DomainVerification || c.SSO.TrustEmailVerified {
		t.Fatalf("defaults = %+v (%v)", c.SSO, err)
	}
	c, err = parse(map[string]string{"SSO_PROVIDERS_LIMIT": "0", "SSO_DEFAULT_ROLE": "admin", "SSO_DOMAIN_VERIFICATION": "true"})
	if err != nil || c.SSO.providersLimit() != 0 || c.SSO.defaultRole() != "admin" || !c.SSO.DomainVerification {
		t.Fatalf("configured = %+v (%v)", c.SSO, err)
	}
	for _, env := range []map[string]string{{"SSO_DEFAULT_ROLE": "superuser"}, {"SSO_PROVIDERS_LIMIT": "-1"}, {"SSO_DOMAIN_VERIFICATION": "maybe"}} {
		if _, err := parse(env); err == nil {
			t.Errorf("%v accepted", env)
		}
	}
}
