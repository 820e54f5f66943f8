package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// The bearer plugin (upstream: packages/better-auth/src/plugins/bearer/index.ts, bearer): a
// session token in "Authorization: Bearer <token>" stands for the session_token cookie on every
// route, and every answer that sets that cookie also carries its value in set-auth-token, so that
// clients without a cookie jar (mobile apps, other services) can hold a session.
//
// Upstream turns the header into a session_token cookie on a copy of the request headers; the
// origin (CSRF) checks read the original request, so a request that carries no Cookie header is
// never origin-checked, bearer token or not. Ours reads the header where the cookie is read
// (sessionToken) and leaves the request alone, which gives the same decisions.

// sessionToken is the verified session token a request presents: its bearer token when the
// plugin is on and the header holds one upstream would take, else its session_token cookie.
// A bearer token replaces the cookie, as upstream's hook overwrites the cookie with it, so a
// request carrying both for different users is the bearer token's user.
func (s *server) sessionToken(r *http.Request) (string, bool) {
	if s.cfg.Bearer.Enabled {
		if signed, ok := s.bearerSignedToken(r); ok {
			// A bare token is signed whatever its bytes, and a header may carry bytes that are
			// not UTF-8 (obs-text), which no stored token is and Postgres refuses as a query
			// parameter: it names no session, as the cookie it replaces would not.
			token, ok := s.verifySigned(signed)
			return token, ok && utf8.ValidString(token)
		}
	}
	return s.sessionCookieToken(r)
}

// bearerSignedToken returns the "token.signature" value upstream's hook would put in the
// session_token cookie, or false when it would leave the cookie alone: no Bearer scheme, an empty
// token, a bare token under RequireSignature, or a signature that does not verify.
//
// Upstream checks the signature twice: loosely here (either base64 alphabet, padding optional,
// anything after "=" ignored), then strictly when it reads the cookie. A token passing the first
// check only replaces the cookie and then fails the second: no session, cookie or not. The
// caller's verifySigned is that second check.
func (s *server) bearerSignedToken(r *http.Request) (string, bool) {
	header := strings.Join(r.Header.Values("Authorization"), ", ")
	const scheme = "bearer " // case-insensitive, as RFC 7235 and upstream
	if len(header) < len(scheme) || strings.ToLower(header[:len(scheme)]) != scheme {
		return "", false
	}
	token := strings.TrimSpace(header[len(scheme):])
	if token == "" {
		return "", false
	}
	var signed string
	switch {
	case strings.Contains(token, "."):
		signed = tryDecodeURIComponent(token)
	case s.cfg.Bearer.RequireSignature:
		return "", false
	default:
		signed = s.sign(token) // upstream signs a bare token itself
	}
	parts := strings.Split(signed, ".")
	sig, ok := looseBase64(parts[1])
	if !ok {
		return "", false
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
	mac.Write([]byte(parts[0]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return "", false
	}
	return signed, true
}

// tryDecodeURIComponent is upstream's tryDecode: decodeURIComponent, or the value unchanged when
// it is not valid percent-encoding.
func tryDecodeURIComponent(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	d, err := url.PathUnescape(v)
	if err != nil {
		return v
	}
	return d
}

// looseBase64 decodes as upstream's @better-auth/utils base64.decode, which its bearer hook uses:
// the URL-safe alphabet when "-" or "_" appears, else the standard one; decoding stops at the
// first "="; leftover bits are dropped.
func looseBase64(s string) ([]byte, bool) {
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	if strings.ContainsAny(s, "-_") {
		alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	}
	var out []byte
	var buf uint
	bits := 0
	for _, c := range s {
		if c == '=' {
			break
		}
		v := strings.IndexRune(alphabet, c)
		if v < 0 {
			return nil, false
		}
		buf = buf<<6 | uint(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(buf>>bits))
		}
	}
	return out, true
}

// bearerWriter adds set-auth-token to an answer that sets a live session_token cookie, as
// upstream's after-hook does for every route: the value is the cookie's, decoded (token.signature).
type bearerWriter struct {
	http.ResponseWriter
	cookie string // the session_token cookie's full name
	done   bool
}

func (s *server) withBearerHeader(w http.ResponseWriter) http.ResponseWriter {
	if !s.cfg.Bearer.Enabled {
		return w
	}
	return &bearerWriter{ResponseWriter: w, cookie: s.cookieName(cookieSessionToken)}
}

func (b *bearerWriter) WriteHeader(code int) {
	b.addToken()
	b.ResponseWriter.WriteHeader(code)
}

func (b *bearerWriter) Write(p []byte) (int, error) {
	b.addToken()
	return b.ResponseWriter.Write(p)
}

func (b *bearerWriter) Unwrap() http.ResponseWriter { return b.ResponseWriter }

func (b *bearerWriter) addToken() {
	if b.done {
		return
	}
	b.done = true
	h := b.Header()
	var value string
	for _, line := range h.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(line, b.cookie+"="); ok {
			value = v // the last one counts, as in upstream's parsed map
		}
	}
	v, attrs, _ := strings.Cut(value, ";")
	if v == "" || strings.Contains(attrs, "Max-Age=0;") || strings.HasSuffix(attrs, "Max-Age=0") {
		return
	}
	h.Set("set-auth-token", tryDecodeURIComponent(v))
	exposeHeader(h, "set-auth-token")
}

// exposeHeader adds name to Access-Control-Expose-Headers, keeping the names already there, as
// upstream's bearer and jwt hooks do (whatever the request's Origin).
func exposeHeader(h http.Header, name string) {
	var names []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(h.Get("Access-Control-Expose-Headers"), ",") {
		if p := strings.TrimSpace(part); p != "" && !seen[p] {
			seen[p] = true
			names = append(names, p)
		}
	}
	if !seen[name] {
		names = append(names, name)
	}
	h.Set("Access-Control-Expose-Headers", strings.Join(names, ", "))
}
