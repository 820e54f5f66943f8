package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address rate limits and session rows record (upstream
// packages/better-auth/src/utils/get-request-ip.ts, getIp). Forwarding headers are believed only
// when the direct peer is one of TRUSTED_PROXIES (by default loopback, where a Next.js route
// handler or rewrite comes from). IP_ADDRESS_HEADERS names them in order, as upstream's
// advanced.ipAddress.ipAddressHeaders does; the first that yields an address wins.
// X-Forwarded-For is walked from the right to the first untrusted hop, so a client cannot choose
// its own address by sending the header itself; any other header (cf-connecting-ip, x-real-ip) is
// one the platform overwrites, and is taken whole. IPv6 is masked to its /64, which one
// subscriber usually holds whole, and written in upstream's expanded form.
func (s *server) clientIP(r *http.Request) string {
	peer := peerAddr(r)
	if !peer.IsValid() {
		return ""
	}
	if s.trustedProxy(peer) {
		for _, name := range s.ipAddressHeaders() {
			if a, ok := s.addressFromHeader(r, name, peer); ok {
				return normalizeIP(a)
			}
		}
	}
	return normalizeIP(peer)
}

// ipAddressHeaders is IP_ADDRESS_HEADERS, upstream's default (x-forwarded-for) when unset.
func (s *server) ipAddressHeaders() []string {
	if len(s.cfg.IPAddressHeaders) == 0 {
		return []string{"x-forwarded-for"}
	}
	return s.cfg.IPAddressHeaders
}

// addressFromHeader reads the client's address from one forwarding header sent by the trusted
// peer; false when the header is absent or holds no address.
func (s *server) addressFromHeader(r *http.Request, name string, peer netip.Addr) (netip.Addr, bool) {
	values := r.Header.Values(name)
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	if !strings.EqualFold(name, "x-forwarded-for") {
		first, _, _ := strings.Cut(values[0], ",")
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		return a.Unmap().WithZone(""), err == nil
	}
	// Every header line, in order: a proxy may append its own line rather than extend the
	// client's, and the client's first line is exactly the part it controls.
	hops := strings.Split(strings.Join(values, ","), ",")
	found := false
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		found = true
		hop = hop.Unmap().WithZone("")
		if !s.trustedProxy(hop) {
			return hop, true
		}
		peer = hop
	}
	return peer, found
}

func peerAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap().WithZone("")
}

func (s *server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// normalizeIP keeps IPv4 as is and masks IPv6 to /64 in fully expanded form, as upstream stores it
// (2001:db8::1 → 2001:0db8:0000:0000:0000:0000:0000:0000).
func normalizeIP(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	b := p.Addr().As16()
	var parts [8]string
	for i := range parts {
		parts[i] = fmt.Sprintf("%02x%02x", b[2*i], b[2*i+1])
	}
	return strings.Join(parts[:], ":")
}
