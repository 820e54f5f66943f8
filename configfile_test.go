package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigFileExamplesLoad loads every example of testdata/config/ and checks what each sets.
func TestConfigFileExamplesLoad(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/config/*.json")
	if len(files) < 2 {
		t.Fatalf("testdata/config holds %d examples", len(files))
	}
	checks := map[string]func(t *testing.T, c config){
		"app.json": func(t *testing.T, c config) {
			want := []struct {
				name      string
				got, want any
			}{
				{"baseURL", c.BaseURL, "https://app.example.com"},
				{"trustedOrigins", c.TrustedOrigins[0], "https://admin.example.com"},
				{"requireEmailVerification", c.Email.RequireVerification, true},
				{"minPasswordLength", c.MinPasswordLength, 10},
				{"maxPasswordLength", c.MaxPasswordLength, 64},
				{"autoSignIn", c.AutoSignIn, false},
				{"session.expiresIn", c.SessionExpiresIn, 30 * 24 * time.Hour},
				{"session.updateAge", c.SessionUpdateAge, time.Hour},
				{"session.freshAge", c.SessionFreshAge, 10 * time.Minute},
				{"session.cookieCache", c.CookieCacheMaxAge, 300},
				{"advanced.cookiePrefix", c.CookiePrefix, "acme"},
				{"advanced.crossSubDomainCookies", c.CookieDomain, "example.com"},
				{"secure cookies from the https baseURL", c.SecureCookies, true},
				{"socialProviders.github.clientId", c.OAuth.Providers[0].ClientID, "Iv1.acme"},
				{"two-factor issuer", c.TwoFactor.Issuer, "Acme"},
				{"organization membershipLimit", c.Org.MembershipLimit, 20},
				{"magic-link disableSignUp", c.Email.PasswordlessSignUp, false},
				{"jwt entry turns the plugin on", c.JWT.Enabled, true},
				{"jwt expirationTime", c.JWT.ExpiresIn, 5 * time.Minute},
				{"bearer stays off without its entry", c.Bearer.Enabled, false},
			}
			for _, w := range want {
				if w.got != w.want {
					t.Errorf("%s: got %v, want %v", w.name, w.got, w.want)
				}
			}
		},
		"closed.json": func(t *testing.T, c config) {
			if !c.DisableSignUp || c.Email.PasswordlessSignUp || c.CookiePrefix != "closed" || c.SecureCookies {
				t.Errorf("closed.json: disableSignUp %v, passwordless sign-up %v, prefix %q, secure %v",
					c.DisableSignUp, c.Email.PasswordlessSignUp, c.CookiePrefix, c.SecureCookies)
			}
		},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := loadConfig([]string{"-config", f}, env(map[string]string{"AUTH_GITHUB_CLIENT_SECRET": "s", "BETTER_AUTH_SECRET": testSecret}))
			if err != nil {
				t.Fatal(err)
			}
			check, ok := checks[filepath.Base(f)]
			if !ok {
				t.Fatalf("no checks for %s: every example says what it sets", f)
			}
			check(t, c)
		})
	}
}

// TestConfigFileLosesToEnvironmentAndFlags: the file replaces defaults only; a variable replaces
// the file's value and a flag replaces both.
func TestConfigFileLosesToEnvironmentAndFlags(t *testing.T) {
	t.Parallel()
	path := writeConfigFile(t, `{"advanced": {"cookiePrefix": "file"}, "session": {"expiresIn": 60, "updateAge": 30}}`)
	c, err := loadConfig([]string{"-session-update-age", "10"}, env(map[string]string{
		"AUTH_CONFIG": path, "COOKIE_PREFIX": "env", "SESSION_UPDATE_AGE": "20",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.CookiePrefix != "env" || c.SessionExpiresIn != time.Minute || c.SessionUpdateAge != 10*time.Second {
		t.Errorf("prefix %q (want env), expiresIn %v (want the file's 1m), updateAge %v (want the flag's 10s)",
			c.CookiePrefix, c.SessionExpiresIn, c.SessionUpdateAge)
	}
}

// TestConfigFileRefusesWithTheKeyPath: unknown keys, wrong types and secrets stop start-up with
// one line naming the key path.
func TestConfigFileRefusesWithTheKeyPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ file, want string }{
		{`{"sesion": {}}`, "config: sesion: unknown key"},
		{`{"session": {"expiresIn": "7d"}}`, `config: session.expiresIn: want a whole number, got "7d"`},
		{`{"session": {"cookieCache": {"enabled": true, "maxAge": "5m"}}}`, "config: session.cookieCache.maxAge: want int64, got string"},
		{`{"session": {"cookieCache": {"enabeld": true}}}`, "config: session.cookieCache.enabeld: unknown key"},
		{`{"advanced": {"crossSubDomainCookies": {"enabled": "yes"}}}`, `config: advanced.crossSubDomainCookies.enabled: want true or false, got "yes"`},
		{`{"socialProviders": {"github": {"clientId": "x", "clientSecret": "y"}}}`, "config: socialProviders.github.clientSecret: secrets come only from the environment (AUTH_GITHUB_CLIENT_SECRET)"},
		{`{"secret": "0123456789abcdef0123456789abcdef"}`, "config: secret: secrets come only from the environment (BETTER_AUTH_SECRET)"},
		{`{"plugins": [{"id": "two-factor", "isuer": "x"}]}`, "config: plugins.two-factor.isuer: unknown key"},
		{`{"plugins": [{"id": "nope"}]}`, `config: plugins[0].id: unknown plugin "nope" (want one of admin, bearer, email-otp, jwt, magic-link, organization, passkey, sso, two-factor)`},
		{`{"plugins": [{"id": "jwt"}, {"id": "jwt"}]}`, `config: plugins[1].id: plugin "jwt" listed twice`},
		{`{"plugins": {"jwt": {}}}`, `config: plugins: want a list of {"id": …} entries`},
		{`{"plugins": [{"id": "magic-link", "disableSignUp": true}, {"id": "email-otp", "disableSignUp": false}]}`, "config: plugins.magic-link.disableSignUp: disagrees with plugins.email-otp.disableSignUp; both set PASSWORDLESS_SIGN_UP"},
		{`{"emailAndPassword": {"enabled": false}}`, "config: emailAndPassword.enabled: want true (authsidecar always serves it), got false"},
		{`[]`, "config: (top level): want an object"},
		{`{"baseURL": "https://a.example", }`, "config: auth.json: not JSON at byte 34: invalid character '}' looking for beginning of object key string"},
	}
	for _, tt := range tests {
		path := writeConfigFile(t, tt.file)
		_, err := loadConfig([]string{"-config", path}, env(nil))
		if err != nil {
			err = errors.New(strings.ReplaceAll(err.Error(), path, "auth.json"))
		}
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.file, err, tt.want)
		}
	}
}

func writeConfigFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// env is a getenv over vars.
func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
