package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Cookie names without prefix (upstream packages/better-auth/src/cookies/index.ts, getCookies). The
// "<COOKIE_PREFIX>." prefix (better-auth by default) and, with Secure cookies, "__Secure-" are added
// by cookieName, so the names stay the ones better-auth/cookies looks for in Next.js middleware.
const (
	cookieSessionToken = "session_token"
	cookieSessionData  = "session_data"
	cookieDontRemember = "dont_remember"
)

func (s *server) cookieName(name string) string {
	// The two every get-session reads are named once (newServer); concatenating them was an
	// allocation of each request.
	switch {
	case name == cookieSessionToken && s.sessionTokenCookie != "":
		return s.sessionTokenCookie
	case name == cookieSessionData && s.sessionDataCookie != "":
		return s.sessionDataCookie
	}
	if s.cfg.SecureCookies {
		return "__Secure-" + s.cfg.CookiePrefix + "." + name
	}
	return s.cfg.CookiePrefix + "." + name
}

// sign returns upstream's signed cookie value before URL-encoding: value "." base64(HMAC-SHA256).
func (s *server) sign(value string) string {
	m := s.secretMAC()
	defer s.secretMACs.Put(m)
	return value + "." + string(m.sign(value))
}

// secretMAC is HMAC-SHA256 keyed with the secret, with its buffers: every request verifies its
// session_token with one, and a fresh hmac.New (two SHA-256 states, the keyed pads, the sum, the
// decoded signature) was nine allocations of a cookie-cache hit's fifty. Taken from a pool,
// reset, returned by the caller with secretMACs.Put.
type secretMAC struct {
	h   hash.Hash
	in  []byte
	sum []byte
	b64 [44]byte // base64.StdEncoding of a 32-byte sum, padded
}

func (s *server) secretMAC() *secretMAC {
	if m, ok := s.secretMACs.Get().(*secretMAC); ok {
		m.h.Reset()
		return m
	}
	return &secretMAC{h: hmac.New(sha256.New, []byte(s.cfg.Secret))}
}

// sign returns base64.StdEncoding(HMAC(value)), valid until m is reset or returned.
func (m *secretMAC) sign(value string) []byte {
	m.in = append(m.in[:0], value...) // hash.Hash takes bytes; this buffer is reused
	m.h.Write(m.in)
	m.sum = m.h.Sum(m.sum[:0])
	base64.StdEncoding.Encode(m.b64[:], m.sum)
	return m.b64[:]
}

// verifySigned checks a decoded "value.signature" string as better-call's getSignedCookie does
// (better-call's signed cookies, as upstream packages/better-auth/src/cookies/index.ts uses them):
// split at the last dot, a 44-character padded signature, constant-time HMAC comparison.
func (s *server) verifySigned(signed string) (string, bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 1 {
		return "", false
	}
	value, sig := signed[:i], signed[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", false
	}
	// Strict: the unused low bits of the last character must be zero, so that one signature has
	// one spelling and changing its last character never leaves it valid. The canonical padded
	// encoding of the expected sum is that one spelling, so comparing it with sig is a strict
	// decode and a comparison in one, and allocates nothing.
	m := s.secretMAC()
	defer s.secretMACs.Put(m)
	if !constantTimeEqual(sig, m.sign(value)) {
		return "", false
	}
	return value, true
}

// constantTimeEqual compares a string with bytes in time that depends only on their lengths, as
// subtle.ConstantTimeCompare does, without converting the string (a 44-byte copy on the heap).
func constantTimeEqual(a string, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range b {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

// rawCookie returns the first cookie called name in the request, decoded as upstream does:
// surrounding quotes stripped and decodeURIComponent applied (never form decoding, which would turn
// "+" into a space). Go's own parser is not used because it drops values it considers invalid.
func rawCookie(r *http.Request, name string) (string, bool) {
	v, ok := cookieText(r, name)
	if !ok || !strings.Contains(v, "%") {
		return v, ok
	}
	d, err := url.PathUnescape(v)
	if err != nil {
		return "", false
	}
	return d, true
}

// cookieText is the first cookie called name as sent, surrounding quotes stripped, not decoded.
func cookieText(r *http.Request, name string) (string, bool) {
	for _, header := range r.Header["Cookie"] { // Header.Values("Cookie"), the key already canonical
		for rest := header; rest != ""; {
			// The parts between semicolons, without an iterator's call for each; the name is
			// trimmed on its own, which is what trimming the part and then the name did.
			part := rest
			if i := strings.IndexByte(rest, ';'); i >= 0 {
				part, rest = rest[:i], rest[i+1:]
			} else {
				rest = ""
			}
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// signedCookie returns the verified value of a signed cookie, or false when it is absent or forged.
func (s *server) signedCookie(r *http.Request, name string) (string, bool) {
	v, ok := rawCookie(r, s.cookieName(name))
	if !ok {
		return "", false
	}
	return s.verifySigned(v)
}

// sessionCookieToken is the verified token of the session_token cookie. A value verified once is
// remembered by its text as sent: decoding it (its signature is percent-encoded) and its HMAC
// were a third of what a cookie-cache hit cost beyond a bare handler. The memo keeps only values
// that verified, and the text decides the token, so the answer is the one a fresh check gives.
func (s *server) sessionCookieToken(r *http.Request) (string, bool) {
	text, ok := cookieText(r, s.cookieName(cookieSessionToken))
	if !ok {
		return "", false
	}
	if token, ok := s.tokenMemo.get(text); ok {
		return token, true
	}
	token, ok := s.signedCookie(r, cookieSessionToken)
	if ok {
		s.tokenMemo.put(text, token)
	}
	return token, ok
}

// cookieOpts are the attributes that vary between cookies; everything else is upstream's default.
type cookieOpts struct {
	maxAge  int  // seconds; 0 with session=true omits Max-Age (a browser-session cookie)
	session bool // no Max-Age
}

// setCookie writes one Set-Cookie line with upstream's attribute order
// (name=value; Max-Age; Domain; Path; HttpOnly; Secure; SameSite). A later write for the same name replaces
// the earlier one in this response, as upstream drops a cookie it sets and then expires.
func (s *server) setCookie(w http.ResponseWriter, name, value string, o cookieOpts) {
	full := s.cookieName(name)
	h := w.Header()
	kept := h.Values("Set-Cookie")[:0:0]
	for _, line := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(line, full+"=") {
			kept = append(kept, line)
		}
	}
	h["Set-Cookie"] = append(kept, s.cookieLine(full, value, o))
}

// cookieLine serializes one Set-Cookie value for the full cookie name.
func (s *server) cookieLine(full, value string, o cookieOpts) string {
	var b strings.Builder
	b.WriteString(full)
	b.WriteByte('=')
	b.WriteString(value)
	if !o.session {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(o.maxAge))
	}
	if s.cfg.CookieDomain != "" {
		b.WriteString("; Domain=")
		b.WriteString(s.cfg.CookieDomain)
	}
	b.WriteString("; Path=/; HttpOnly")
	if s.cfg.SecureCookies {
		b.WriteString("; Secure")
	}
	b.WriteString("; SameSite=Lax")
	return b.String()
}

// setSignedCookie sets name to the signed, URL-encoded value (encodeURIComponent of "value.sig").
func (s *server) setSignedCookie(w http.ResponseWriter, name, value string, o cookieOpts) {
	s.setCookie(w, name, encodeURIComponent(s.sign(value)), o)
}

// encodeURIComponent escapes exactly as JavaScript's function of that name: everything but
// A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes %XX of its UTF-8 bytes.
func encodeURIComponent(v string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func (s *server) expireCookie(w http.ResponseWriter, name string) {
	s.setCookie(w, name, "", cookieOpts{maxAge: 0})
}
