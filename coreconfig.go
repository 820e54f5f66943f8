package main

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// coreConfig holds upstream's core betterAuth() options that every route reads: cookies
// (upstream packages/better-auth/src/cookies/index.ts, createCookieGetter and getCookies),
// session timing (session.expiresIn, updateAge, freshAge), sign-up and password rules
// (emailAndPassword), and how bodies with keys a route does not take are met.
type coreConfig struct {
	CookiePrefix      string // advanced.cookiePrefix: cookies are <prefix>.<name>
	CookieDomain      string // advanced.crossSubDomainCookies: Domain= of every cookie; empty: host-only
	SessionExpiresIn  time.Duration
	SessionUpdateAge  time.Duration
	SessionFreshAge   time.Duration // 0: every session counts as fresh, as upstream
	DisableSignUp     bool          // emailAndPassword.disableSignUp
	AutoSignIn        bool          // emailAndPassword.autoSignIn: sign-up answers a session
	MinPasswordLength int
	MaxPasswordLength int
	StrictBody        bool // refuse body keys a route does not take (deviation unknown-body-keys)
}

// defaultCoreConfig is upstream's defaults; a config built in code without core settings (tests)
// gets them from newServer.
func defaultCoreConfig() coreConfig {
	return coreConfig{
		CookiePrefix:      "better-auth",
		SessionExpiresIn:  defaultSessionExpiresIn,
		SessionUpdateAge:  defaultSessionUpdateAge,
		SessionFreshAge:   defaultSessionFreshAge,
		AutoSignIn:        true,
		MinPasswordLength: defaultMinPasswordLength,
		MaxPasswordLength: defaultMaxPasswordLength,
	}
}

// maxCookieMaxAge is 400 days, the longest Max-Age better-call's serializeCookie writes.
const maxCookieMaxAge = 400 * 24 * 60 * 60

type coreFlags struct {
	cfg                              coreConfig
	useSecureCookies, crossSubDomain bool
	expiresIn, updateAge, freshAge   int
	settings                         *settings
}

// registerCoreFlags adds the Sessions, cookies, sign-up group.
func registerCoreFlags(s *settings) *coreFlags {
	f := &coreFlags{settings: s}
	c := &f.cfg
	s.String(&c.CookiePrefix, "cookie-prefix", "COOKIE_PREFIX", "better-auth", "cookies are named <prefix>.session_token and so on (upstream advanced.cookiePrefix)")
	s.Bool(&f.useSecureCookies, "use-secure-cookies", "USE_SECURE_COOKIES", false, "Secure cookies named __Secure-<prefix>.…; unset: when BETTER_AUTH_URL is https, or without it in production")
	s.Bool(&f.crossSubDomain, "cross-subdomain-cookies", "CROSS_SUBDOMAIN_COOKIES", false, "give every cookie Domain=COOKIE_DOMAIN, so subdomains share the session")
	s.String(&c.CookieDomain, "cookie-domain", "COOKIE_DOMAIN", "", "Domain= of cross-subdomain cookies, e.g. example.com; empty: BETTER_AUTH_URL's host")
	s.Int(&f.expiresIn, "session-expires-in", "SESSION_EXPIRES_IN", int(defaultSessionExpiresIn.Seconds()), "seconds a session lasts (and the session_token cookie's Max-Age)")
	s.Int(&f.updateAge, "session-update-age", "SESSION_UPDATE_AGE", int(defaultSessionUpdateAge.Seconds()), "seconds after which a used session's expiry is pushed back")
	s.Int(&f.freshAge, "session-fresh-age", "SESSION_FRESH_AGE", int(defaultSessionFreshAge.Seconds()), "seconds a session counts as fresh for sensitive routes; 0: always fresh")
	s.Bool(&c.DisableSignUp, "disable-sign-up", "DISABLE_SIGN_UP", false, "refuse email+password sign-up; existing users still sign in")
	s.Bool(&c.AutoSignIn, "auto-sign-in", "AUTO_SIGN_IN", true, "email+password sign-up signs the user in")
	s.Int(&c.MinPasswordLength, "min-password-length", "MIN_PASSWORD_LENGTH", defaultMinPasswordLength, "shortest password accepted")
	s.Int(&c.MaxPasswordLength, "max-password-length", "MAX_PASSWORD_LENGTH", defaultMaxPasswordLength, "longest password accepted")
	s.Bool(&c.StrictBody, "strict-body", "STRICT_BODY", false, "refuse (400) body keys a route does not take; off: dropped with a debug log line, as upstream")
	return f
}

// parse checks the values and works out the cookie domain and whether cookies are Secure, as
// upstream's createCookieGetter does from advanced.useSecureCookies and baseURL.
func (f *coreFlags) parse(c *config) error {
	core := f.cfg
	switch {
	case f.expiresIn <= 0 || f.expiresIn > maxCookieMaxAge:
		// better-call refuses a Max-Age over 400 days, so upstream could not set the cookie either.
		return fmt.Errorf("SESSION_EXPIRES_IN: want 1 to %d seconds, got %d", maxCookieMaxAge, f.expiresIn)
	case f.updateAge < 0 || f.freshAge < 0:
		return fmt.Errorf("SESSION_UPDATE_AGE, SESSION_FRESH_AGE: want seconds, got %d, %d", f.updateAge, f.freshAge)
	case core.MinPasswordLength < 1 || core.MaxPasswordLength < core.MinPasswordLength:
		return fmt.Errorf("MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH: want 1 <= min <= max, got %d, %d", core.MinPasswordLength, core.MaxPasswordLength)
	case core.CookiePrefix == "":
		return errors.New("COOKIE_PREFIX: want a prefix, got none")
	}
	core.SessionExpiresIn = time.Duration(f.expiresIn) * time.Second
	core.SessionUpdateAge = time.Duration(f.updateAge) * time.Second
	core.SessionFreshAge = time.Duration(f.freshAge) * time.Second
	if !f.crossSubDomain {
		core.CookieDomain = ""
	} else if core.CookieDomain == "" {
		u, err := url.Parse(c.BaseURL)
		if c.BaseURL == "" || err != nil {
			return errors.New("CROSS_SUBDOMAIN_COOKIES: needs COOKIE_DOMAIN or BETTER_AUTH_URL")
		}
		core.CookieDomain = u.Hostname()
	}
	if f.settings.isSet("use-secure-cookies") {
		c.SecureCookies = f.useSecureCookies
	}
	c.coreConfig = core
	return nil
}
