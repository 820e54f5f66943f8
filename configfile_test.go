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
				{"magic-link disableSignUp", c.Email.MagicLinkDisableSignUp, true},
				{"email-otp sign-up stays on", c.Email.OTPDisableSignUp, false},
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
		"fields.json": checkFieldsExample, // fields_test.go
		"closed.json": func(t *testing.T, c config) {
			if !c.DisableSignUp || !c.Email.MagicLinkDisableSignUp || !c.Email.OTPDisableSignUp || c.CookiePrefix != "closed" || c.SecureCookies {
				t.Errorf("closed.json: disableSignUp %v, magic link / OTP sign-up off %v %v, prefix %q, secure %v",
					c.DisableSignUp, c.Email.MagicLinkDisableSignUp, c.Email.OTPDisableSignUp, c.CookiePrefix, c.SecureCookies)
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
		{`{"plugins": [{"id": "nope"}]}`, `config: plugins[0].id: unknown plugin "nope" (want one of admin, bearer, email-otp, jwt, magic-link, organization, passkey, sso, two-factor, username)`},
		{`{"plugins": [{"id": "jwt"}, {"id": "jwt"}]}`, `config: plugins[1].id: plugin "jwt" listed twice`},
		{`{"plugins": {"jwt": {}}}`, `config: plugins: want a list of {"id": …} entries`},
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

// TestConfigCommandSaysWhereEachValueCameFrom: `authsidecar config` prints each setting with its
// key path and source (default, file, env, flag) and never a secret's value.
func TestConfigCommandSaysWhereEachValueCameFrom(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, []string{"COOKIE_PREFIX=envp", "SMTP_PASSWORD=hunter2-secret",
		"DATABASE_URL=postgres://u:db-password@127.0.0.1/x", "BETTER_AUTH_SECRET=" + testSecret},
		"config", "-config", "testdata/config/closed.json", "-session-fresh-age", "60")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, out)
	}
	for _, want := range []string{
		`  COOKIE_PREFIX = "envp"  [advanced.cookiePrefix]  (env)`,
		`  DISABLE_SIGN_UP = "true"  [emailAndPassword.disableSignUp]  (file)`,
		`  EMAIL_OTP_DISABLE_SIGN_UP = "true"  [plugins.email-otp.disableSignUp]  (file)`,
		`  SESSION_FRESH_AGE = "60"  [session.freshAge]  (flag)`,
		`  ADDR = ":4000"  (default)`,
		`  DATABASE_URL = "postgres://u:redacted@127.0.0.1/x"  (env)`,
		"  SMTP_PASSWORD: set (redacted)",
		"  secure cookies = false (session cookie envp.session_token)",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("config output lacks %q", want)
		}
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "db-password") || strings.Contains(out, testSecret) {
		t.Errorf("config output shows a secret:\n%s", out)
	}
}
