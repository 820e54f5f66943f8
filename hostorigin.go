package main

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// The origin of every link this server mails (password reset, magic link, verification) and of
// every redirect it checks is BETTER_AUTH_URL's. Without it, upstream takes the request's own Host
// header, so that "Host: evil.example" puts the attacker's origin into a victim's reset mail and
// makes "http://evil.example/x" a trusted callbackURL. Ours refuses to run so in production, and in
// development serves such a request only from a loopback or TRUSTED_ORIGINS origin.

// errProductionNeedsBaseURL is loadConfig's refusal, one line for the operator.
var errProductionNeedsBaseURL = errors.New("BETTER_AUTH_URL must be set in production (ENV=production): " +
	"links in mails and redirect checks would otherwise trust each request's Host header")

// checkProductionOrigin refuses a production configuration without BETTER_AUTH_URL.
func checkProductionOrigin(c config) error {
	if c.Production && c.BaseURL == "" {
		return errProductionNeedsBaseURL
	}
	return nil
}

var errUntrustedHost = apiErr(400, "UNTRUSTED_HOST",
	"This server has no BETTER_AUTH_URL and the request's origin is neither loopback nor a trusted origin")

// refuseUntrustedHost answers 400 when BETTER_AUTH_URL is unset and the origin the request names
// (Host, and X-Forwarded-Proto from a trusted proxy) is neither loopback nor listed in
// TRUSTED_ORIGINS, and logs what to set. It reports whether it answered.
func (s *server) refuseUntrustedHost(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.BaseURL != "" {
		return false
	}
	origin := s.origin(r)
	if isLoopbackOrigin(origin) || s.listedTrustedOrigin(origin) {
		return false
	}
	slog.WarnContext(r.Context(), "request refused: BETTER_AUTH_URL is not set and the request's origin is not loopback; "+
		"set BETTER_AUTH_URL to the app's public origin, or add this origin to TRUSTED_ORIGINS",
		"origin", storableText(origin), "route", logRoute(r))
	writeError(w, r, errUntrustedHost)
	return true
}

// isLoopbackOrigin: http(s) on localhost, *.localhost, 127.0.0.0/8 or ::1.
func isLoopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || originOf(origin) != origin {
		return false
	}
	host := u.Hostname()
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, perr := netip.ParseAddr(host)
	return perr == nil && a.Unmap().IsLoopback()
}

// listedTrustedOrigin matches origin against TRUSTED_ORIGINS alone (trustedOrigins would include
// the request's own origin, which is what is being checked).
func (s *server) listedTrustedOrigin(origin string) bool {
	for _, pattern := range s.cfg.TrustedOrigins {
		if matchesOriginPattern(origin, pattern, false) {
			return true
		}
	}
	return false
}
