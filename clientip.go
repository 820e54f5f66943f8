package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address rate limits and session rows record (upstream
// packages/better-auth/src/utils/get-request-ip.ts, getIp). X-Forwarded-For is believed only when
// the direct peer is one of TRUSTED_PROXIES (by default loopback, where a Next.js rewrite comes
// from); then the list is walked from the right to the first untrusted hop, so a client cannot
// choose its own address by sending the header itself. IPv6 is masked to its /64, which one
// subscriber usually holds whole, and written in upstream's expanded form.
func (s *server) clientIP(r *http.Request) string {
	peer := peerAddr(r)
	if peer.IsValid() && s.trustedProxy(peer) {
		// Every header line, in order: a proxy may append its own line rather than extend the
		// client's, and the client's first line is exactly the part it controls.
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			hop = hop.Unmap().WithZone("")
			if !s.trustedProxy(hop) {
				return normalizeIP(hop)
			}
			peer = hop
		}
	}
	if !peer.IsValid() {
		return ""
	}
	return normalizeIP(peer)
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
