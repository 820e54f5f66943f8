package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestClientIP ensures the address recorded for rate limits and sessions is the peer's,
// or behind a trusted proxy the first untrusted X-Forwarded-For hop from the right, so that a
// client cannot pick its own; IPv6 is masked to /64 in upstream's expanded form.
func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"direct client", proxies, "198.51.100.9:5000", nil, "198.51.100.9"},
		{"direct client spoofing the header", proxies, "198.51.100.9:5000", []string{"203.0.113.7"}, "198.51.100.9"},
		{"behind the proxy", proxies, "127.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-supplied hops on the left are ignored", proxies, "127.0.0.1:5000", []string{"1.2.3.4, 203.0.113.7"}, "203.0.113.7"},
		{"trusted hops on the right are skipped", proxies, "127.0.0.1:5000", []string{"203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"a proxy's own header line counts", proxies, "127.0.0.1:5000", []string{"1.2.3.4", "203.0.113.7"}, "203.0.113.7"},
		{"no header behind the proxy", proxies, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"garbage hop stops the walk at the proxy", proxies, "127.0.0.1:5000", []string{"1.2.3.4, garbage"}, "127.0.0.1"},
		{"every hop trusted", proxies, "127.0.0.1:5000", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"IPv4-mapped IPv6 hop", proxies, "127.0.0.1:5000", []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv6 hop masked to /64", proxies, "127.0.0.1:5000", []string{"2001:db8:abcd:12:1:2:3:4"}, "2001:0db8:abcd:0012:0000:0000:0000:0000"},
		{"IPv6 hop with a zone", proxies, "[::1]:5000", []string{"fe80::1%eth0"}, "fe80:0000:0000:0000:0000:0000:0000:0000"},
		{"IPv6 peer", proxies, "[2001:db8::1]:5000", nil, "2001:0db8:0000:0000:0000:0000:0000:0000"},
		{"IPv4-mapped peer", proxies, "[::ffff:198.51.100.9]:5000", nil, "198.51.100.9"},
		{"no trusted proxies: the header is never read", nil, "127.0.0.1:5000", []string{"203.0.113.7"}, "127.0.0.1"},
		{"unparsable peer", proxies, "pipe", nil, ""},
	}
	for _, tt := range tests {
		s := newServer(config{TrustedProxies: tt.proxies}, nil)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.peer
		for _, v := range tt.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("%s: clientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSessionRecordsClientIP ensures the session row holds the client address behind the proxy.
func TestSessionRecordsClientIP(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	c := ts.client(t)
	c.post("/api/auth/sign-up/email", map[string]any{"email": "ip@example.com", "password": "password123", "name": "IP"},
		"X-Forwarded-For", "2001:db8::7").wantStatus(t, http.StatusOK)
	if got := *ts.sessionRow(t, c.cookieToken()).IPAddress; got != "2001:0db8:0000:0000:0000:0000:0000:0000" {
		t.Fatalf("ipAddress = %q", got)
	}
	c2 := ts.client(t)
	c2.post("/api/auth/sign-in/email", map[string]any{"email": "ip@example.com", "password": "password123"},
		"X-Forwarded-For", "6.6.6.6, 203.0.113.7").wantStatus(t, http.StatusOK)
	if got := *ts.sessionRow(t, c2.cookieToken()).IPAddress; got != "203.0.113.7" {
		t.Fatalf("ipAddress = %q", got)
	}
}

// FuzzClientIP ensures the recorded address is always an address (or empty), and that a peer
// outside the trusted proxies is never overridden by what it sends.
func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1:1", "203.0.113.7, 10.0.0.1")
	f.Add("198.51.100.9:1", "1.2.3.4")
	f.Add("[::1]:1", "fe80::1%eth0,::ffff:1.2.3.4")
	f.Add("127.0.0.1:1", ",,, ,")
	s := newServer(config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, nil)
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := s.clientIP(r)
		if got == "" {
			return
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("clientIP = %q, not an address", got)
		}
		if peer := peerAddr(r); peer.IsValid() && !s.trustedProxy(peer) && got != normalizeIP(peer) {
			t.Fatalf("untrusted peer %v recorded as %q", peer, got)
		}
	})
}

// TestClientIPFromIPAddressHeaders: IP_ADDRESS_HEADERS names the headers a trusted proxy puts the
// client's address in, first found wins, as upstream's ipAddressHeaders; a single-value platform
// header is taken whole, X-Forwarded-For is still walked from the right, and an untrusted peer's
// headers are never read.
func TestClientIPFromIPAddressHeaders(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name    string
		headers []string
		peer    string
		sent    map[string]string
		want    string
	}{
		{"platform header", []string{"cf-connecting-ip"}, "127.0.0.1:1", map[string]string{"Cf-Connecting-Ip": "203.0.113.7", "X-Forwarded-For": "1.2.3.4"}, "203.0.113.7"},
		{"first listed header wins", []string{"cf-connecting-ip", "x-real-ip"}, "127.0.0.1:1", map[string]string{"Cf-Connecting-Ip": "203.0.113.7", "X-Real-Ip": "198.51.100.1"}, "203.0.113.7"},
		{"falls to the next header", []string{"cf-connecting-ip", "x-real-ip"}, "127.0.0.1:1", map[string]string{"X-Real-Ip": "198.51.100.1"}, "198.51.100.1"},
		{"garbage falls to the next header", []string{"x-real-ip", "x-forwarded-for"}, "127.0.0.1:1", map[string]string{"X-Real-Ip": "nope", "X-Forwarded-For": "1.2.3.4, 198.51.100.2"}, "198.51.100.2"},
		{"none: the peer", []string{"x-real-ip"}, "127.0.0.1:1", map[string]string{"X-Forwarded-For": "198.51.100.2"}, "127.0.0.1"},
		{"untrusted peer's header ignored", []string{"cf-connecting-ip"}, "198.51.100.9:1", map[string]string{"Cf-Connecting-Ip": "203.0.113.7"}, "198.51.100.9"},
	}
	for _, tt := range tests {
		s := newServer(config{TrustedProxies: proxies, IPAddressHeaders: tt.headers}, nil)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tt.peer
		for k, v := range tt.sent {
			r.Header.Set(k, v)
		}
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("%s: clientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
	c, err := loadConfig([]string{"-ip-address-headers", "CF-Connecting-IP, X-Real-IP"}, func(string) string { return "" })
	if err != nil || strings.Join(c.IPAddressHeaders, ",") != "cf-connecting-ip,x-real-ip" {
		t.Fatalf("-ip-address-headers: %v %q", err, c.IPAddressHeaders)
	}
	if c, _ := loadConfig(nil, func(k string) string { return map[string]string{"IP_ADDRESS_HEADERS": "X-Real-IP"}[k] }); strings.Join(c.IPAddressHeaders, ",") != "x-real-ip" {
		t.Fatalf("IP_ADDRESS_HEADERS: %q", c.IPAddressHeaders)
	}
}

// TestFailedSignInsFromManyAddressesDoNotLockOutTheOwner: the sign-in limits count per address
// and path, never per account, so an attacker failing from ten addresses (each until its own
// 429) cannot stop the owner's correct password from another address.
func TestFailedSignInsFromManyAddressesDoNotLockOutTheOwner(t *testing.T) {
	t.Parallel()
	ts := rateLimited(t, newTestClock())
	ts.client(t).post("/api/auth/sign-up/email", map[string]any{"email": "owner@example.com", "password": "password123", "name": "Owner"},
		"X-Forwarded-For", "198.51.100.200").wantStatus(t, http.StatusOK)
	attacker := ts.client(t)
	limited := 0
	for i := range 10 {
		from := fmt.Sprintf("203.0.113.%d", i+1)
		for range 4 {
			resp := attacker.post("/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": "wrong-password"}, "X-Forwarded-For", from)
			if resp.Status == http.StatusTooManyRequests {
				limited++
			}
		}
	}
	if limited != 10 {
		t.Fatalf("%d of 10 attacking addresses were limited, want each after 3", limited)
	}
	owner := ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "owner@example.com", "password": "password123"},
		"X-Forwarded-For", "198.51.100.7").wantStatus(t, http.StatusOK)
	recordFigures(t, "lockout", map[string]any{"addresses": 10, "attempts_each": 4, "limited_addresses": limited, "owner": owner.Status})
}
