package main

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// Trusted origins and URL checks (upstream
// packages/better-auth/src/api/middlewares/origin-check.ts). Every redirect target a client can
// name passes isTrustedURL before we store or follow it, which is what stops open redirects.

// trustedOrigins lists the base URL's origin and the configured TRUSTED_ORIGINS patterns.
func (s *server) trustedOrigins(r *http.Request) []string {
	return append([]string{s.origin(r)}, s.cfg.TrustedOrigins...)
}

// isTrustedURL reports whether u may be used as a redirect target or as a request's Origin.
// Relative paths pass only where allowRelative is set and only when no browser could read them
// as pointing at another host.
func (s *server) isTrustedURL(r *http.Request, u string, allowRelative bool) bool {
	for _, pattern := range s.trustedOrigins(r) {
		if matchesOriginPattern(u, pattern, allowRelative) {
			return true
		}
	}
	return false
}

// matchesOriginPattern is upstream's matcher (auth/trusted-origins.ts), made stricter where Go's
// URL parser and a browser's could disagree: backslashes, control characters, whitespace and
// user-info are refused outright, so the host we check is the host a browser would visit.
func matchesOriginPattern(u, pattern string, allowRelative bool) bool {
	if strings.HasPrefix(u, "/") {
		return allowRelative && isSafeRelativeURL(u)
	}
	if hasUnsafeChars(u) {
		return false
	}
	hasWildcard := strings.ContainsAny(pattern, "*?")
	if hasWildcard && !strings.Contains(pattern, "://") {
		host := hostOf(u)
		return host != "" && globMatch(pattern, host) && allowedIPv4Host(pattern, host)
	}
	scheme, _, _ := strings.Cut(u, ":")
	scheme = strings.ToLower(scheme)
	if !strings.Contains(u, ":") || scheme == "http" || scheme == "https" {
		origin := originOf(u)
		if origin == "" {
			return false
		}
		if !hasWildcard {
			return pattern == origin
		}
		return globMatch(pattern, origin) && allowedIPv4Host(pattern[strings.Index(pattern, "://")+3:], origin[strings.Index(origin, "://")+3:])
	}
	return matchesCustomScheme(u, pattern, hasWildcard)
}

var (
	controlChars         = regexp.MustCompile(`[\x00-\x1f\x7f-\x9f]`)
	encodedPathSeparator = regexp.MustCompile(`%2[fF]|%5[cC]`)
	ipWildcardHost       = regexp.MustCompile(`^[\d*?.]*\d[\d*?.]*$`)
)

func hasUnsafeChars(u string) bool {
	return strings.ContainsAny(u, "\\ \t\r\n") || controlChars.MatchString(u)
}

// isSafeRelativeURL accepts root-relative paths that every parser keeps on this host: no "//"
// (protocol-relative), no backslash (browsers read "/\evil.com" as "//evil.com"), no control
// characters, no encoded path separators.
func isSafeRelativeURL(u string) bool {
	if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") || strings.Contains(u, "\\") || controlChars.MatchString(u) {
		return false
	}
	path := u
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		path = u[:i]
	}
	if encodedPathSeparator.MatchString(path) {
		return false
	}
	parsed, err := url.Parse(u)
	return err == nil && parsed.Host == "" && parsed.Scheme == "" && parsed.User == nil
}

// originOf returns the WHATWG origin ("scheme://host[:port]", lowercased, default port dropped) of
// an http(s) URL, or "" when it has none or carries user-info.
func originOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.User != nil || parsed.Host == "" || parsed.Opaque != "" {
		return ""
	}
	scheme := strings.ToLower(parsed.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	host := strings.ToLower(parsed.Hostname())
	if host == "" {
		return ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := parsed.Port()
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// hostOf returns the host[:port] of an http(s) URL for host-only patterns ("*.example.com").
// Upstream matches such a pattern against any scheme's host; we keep it to http(s), so that
// "javascript://x.example.com/%0aalert(1)" is never a trusted callback.
func hostOf(u string) string {
	parsed, err := url.Parse(u)
	if err != nil || parsed.User != nil {
		return ""
	}
	if scheme := strings.ToLower(parsed.Scheme); scheme != "http" && scheme != "https" {
		return ""
	}
	return strings.ToLower(parsed.Host)
}

// globMatch is upstream's wildcardMatch with "/" as separator: "*" and "?" never cross "/" or "\".
func globMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`[^/\\]*`)
		case '?':
			b.WriteString(`[^/\\]`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// allowedIPv4Host: a wildcard host made only of digits, dots and wildcards (10.*.*.*) names an
// address range, so it admits only IPv4 hosts; otherwise "*" could match "10.attacker.com".
func allowedIPv4Host(patternAuthority, authority string) bool {
	patternHost, _, _ := strings.Cut(patternAuthority, ":")
	if !ipWildcardHost.MatchString(patternHost) {
		return true
	}
	host, _, _ := strings.Cut(authority, ":")
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4()
}

// matchesCustomScheme handles app schemes (myapp://, exp://): scheme and authority compared
// lowercased, a pattern path matched as a prefix after resolving dot segments.
func matchesCustomScheme(u, pattern string, hasWildcard bool) bool {
	us, ua, up, ok := splitCustomScheme(u, false)
	ps, pa, pp, pok := splitCustomScheme(pattern, hasWildcard)
	if !ok || !pok || us != ps {
		return false
	}
	if hasWildcard {
		if strings.Contains(ua, "@") {
			return false
		}
		if pa != "" && !(globMatch(pa, ua) && allowedIPv4Host(pa, ua)) {
			return false
		}
		if up == "" {
			up = "/"
		}
		return pp == "" || globMatch(pp, up)
	}
	if pa != "" && ua != pa {
		return false
	}
	return pp == "" || up == pp || strings.HasPrefix(up, pp+"/")
}

func splitCustomScheme(v string, wildcard bool) (scheme, authority, path string, ok bool) {
	i := strings.IndexByte(v, ':')
	if i <= 0 || controlChars.MatchString(v) {
		return "", "", "", false
	}
	scheme = strings.ToLower(v[:i])
	rest := v[i+1:]
	if after, found := strings.CutPrefix(rest, "//"); found {
		rest = after
		end := strings.IndexAny(rest, "/?#")
		if wildcard {
			end = strings.IndexAny(rest, "/#")
		}
		if end == -1 {
			authority, rest = rest, ""
		} else {
			authority, rest = rest[:end], rest[end:]
		}
	}
	end := strings.IndexAny(rest, "?#")
	if wildcard {
		end = strings.IndexByte(rest, '#')
	}
	if end >= 0 {
		rest = rest[:end]
	}
	return scheme, strings.ToLower(authority), normalizePath(rest), true
}

func normalizePath(p string) string {
	if d, err := url.PathUnescape(p); err == nil {
		p = d
	}
	var segs []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		case ".", "":
		default:
			segs = append(segs, seg)
		}
	}
	if len(segs) == 0 {
		return ""
	}
	return "/" + strings.Join(segs, "/")
}

// checkURLFields validates the callback-like body fields and query.callbackURL against the trusted
// origins, relative paths allowed, as upstream's global origin-check middleware does.
func (s *server) checkURLFields(r *http.Request, body map[string]json.RawMessage) error {
	check := func(name, value string) error {
		if value != "" && !s.isTrustedURL(r, value, true) {
			return urlFieldErrors[name]
		}
		return nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Every value: a handler reading another one than the first must not get an unchecked URL.
		for _, v := range r.URL.Query()["callbackURL"] {
			if err := check("callbackURL", v); err != nil {
				return err
			}
		}
	}
	for _, name := range []string{"callbackURL", "redirectTo", "errorCallbackURL", "newUserCallbackURL"} {
		raw, ok := body[name]
		if !ok || jsFalsy(raw) {
			continue // upstream checks only truthy values; schema validation answers the rest
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return apiErr(400, "", "Invalid "+name+": expected a string")
		}
		if err := check(name, v); err != nil {
			return err
		}
	}
	return nil
}

// jsFalsy reports a JSON value JavaScript treats as false: null, false, "", 0.
func jsFalsy(raw json.RawMessage) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	switch t := v.(type) {
	case nil:
		return true
	case bool:
		return !t
	case string:
		return t == ""
	case float64:
		return t == 0
	}
	return false
}

// checkOrigin is upstream's CSRF check for state-changing requests that carry cookies (force for
// the login endpoints): the Origin (or Referer) must be one of the trusted origins.
func (s *server) checkOrigin(r *http.Request, force bool) error {
	if !force && !hasCookieHeader(r) {
		return nil
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	if origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		origin = s.origin(r)
	}
	if origin == "" || origin == "null" {
		return errMissingOrigin
	}
	if !s.isTrustedURL(r, origin, false) {
		return errInvalidOrigin
	}
	return nil
}

// hasCookieHeader reports a Cookie header, even an empty one, as upstream's headers.has("cookie").
func hasCookieHeader(r *http.Request) bool { return len(r.Header.Values("Cookie")) > 0 }

// loginCSRF guards sign-in and sign-up, which carry no cookie on a first login: Fetch Metadata
// blocks a cross-site navigation (a forged form post), and any Origin or Referer must be trusted.
//
// Upstream runs this check after body parsing and the URL-field checks, so a refused request
// whose body is malformed, or whose callbackURL is foreign, gets that answer first. The handler
// never runs for a refused request; only a schema error (400 upstream) is answered 403 here.
func (s *server) loginCSRF(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.loginCSRFError(r); err != nil {
			if _, _, perr := s.parseAndCheckURLs(r, formAllowed); perr != nil {
				return perr
			}
			return err
		}
		return next(w, r)
	}
}

func (s *server) loginCSRFError(r *http.Request) error {
	h := r.Header
	switch {
	case hasCookieHeader(r):
		return nil // the global check already ran
	case strings.TrimSpace(h.Get("Sec-Fetch-Site")+h.Get("Sec-Fetch-Mode")+h.Get("Sec-Fetch-Dest")) != "":
		if h.Get("Sec-Fetch-Site") == "cross-site" && h.Get("Sec-Fetch-Mode") == "navigate" {
			return errCrossSiteLogin
		}
		return s.checkOrigin(r, true)
	case h.Get("Origin") != "" || h.Get("Referer") != "":
		return s.checkOrigin(r, true)
	}
	return nil
}

// cors lets the trusted origins call the sidecar from another origin with credentials.
// Upstream has no CORS at all; an untrusted origin gets no CORS headers and its preflight a 404.
func (s *server) cors(w *statusRecorder, r *http.Request) (preflightDone bool) {
	origin := headerValue(r.Header, "Origin")
	if origin == "" {
		return false
	}
	// The answer depends on Origin, so no cache may share it across origins: Vary: Origin, added
	// as the answer's headers go out (statusRecorder.commit).
	w.varyOrigin = true
	h := w.Header()
	// Only a well-formed origin ("scheme://host[:port]", nothing more) is ever echoed back. Our
	// own origin, the common case, is refused first: it needs no parsing.
	if origin == s.origin(r) || origin != originOf(origin) || !s.isTrustedURL(r, origin, false) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
