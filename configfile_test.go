package main

import (
	"errors"
	"fmt"
	"maps"
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
		"keys.json": func(t *testing.T, c config) {
			var providers []string
			for _, p := range c.OAuth.Providers {
				providers = append(providers, fmt.Sprint(p.ID, " ", p.DisableSignUp, " ", p.DisableImplicitSignUp))
			}
			var rules []string
			for _, r := range c.RateLimitRules.Custom {
				rules = append(rules, fmt.Sprint(r.path, " ", r.pattern != nil, " ", r.off, " ", r.window, " ", r.max))
			}
			want := []struct {
				name      string
				got, want any
			}{
				{"basePath", c.BasePath, "/auth"},
				{"resetPasswordTokenExpiresIn", c.Email.ResetPasswordExpiresIn, 15 * time.Minute},
				{"emailVerification.expiresIn", c.Email.VerificationExpiresIn, 30 * time.Minute},
				{"deleteTokenExpiresIn", c.Email.DeleteTokenExpiresIn, time.Hour},
				{"updateEmailWithoutVerification", c.Email.ChangeEmailWithoutVerification, true},
				{"accountLinking", c.OAuth.Linking, accountLinking{AllowDifferentEmails: true, AllowUnlinkingAll: true}},
				{"trustedProviders", fmt.Sprint(c.OAuth.TrustedProviders), "[google]"},
				{"rateLimit.window", c.RateLimitRules.Window, 60},
				{"rateLimit.max", c.RateLimitRules.Max, 200},
				{"rateLimit.customRules in the file's order", fmt.Sprint(rules), "[/sign-in/email false false 1m0s 5 /two-factor/* true false 30s 10 /get-session false true 0s 0]"},
				{"socialProviders disableSignUp, disableImplicitSignUp", fmt.Sprint(providers), "[github true false google false true]"},
			}
			for _, w := range want {
				if w.got != w.want {
					t.Errorf("%s: got %v, want %v", w.name, w.got, w.want)
				}
			}
		},
		"closed.json": func(t *testing.T, c config) {
			if !c.DisableSignUp || !c.Email.MagicLinkDisableSignUp || !c.Email.OTPDisableSignUp || c.CookiePrefix != "closed" || c.SecureCookies {
				t.Errorf("closed.json: disableSignUp %v, magic link / OTP sign-up off %v %v, prefix %q, secure %v",
					c.DisableSignUp, c.Email.MagicLinkDisableSignUp, c.Email.OTPDisableSignUp, c.CookiePrefix, c.SecureCookies)
			}
		},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := loadConfig([]string{"-config", f}, env(map[string]string{"AUTH_GITHUB_CLIENT_SECRET": "s", "AUTH_GOOGLE_CLIENT_SECRET": "s", "BETTER_AUTH_SECRET": testSecret}))
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
		{`{"rateLimit": {"customRules": {"/x": {"window": 10}}}}`, `config: rateLimit.customRules./x: want {"window": seconds, "max": count}, both whole numbers, got {"window": 10}`},
		{`{"rateLimit": {"customRules": {"/x": {"window": "1m", "max": 1}}}}`, "config: rateLimit.customRules./x.window: want int64, got string"},
		{`{"rateLimit": {"customRules": {"/x": {"window": 1, "max": 1, "burst": 2}}}}`, "config: rateLimit.customRules./x.burst: unknown key"},
		{`{"rateLimit": {"customRules": {"/x": true}}}`, `config: rateLimit.customRules./x: want {"window": seconds, "max": count} or false, got true`},
		{`{"rateLimit": {"customRules": {"sign-in/email": false}}}`, "config: rateLimit.customRules.sign-in/email: want a path such as /sign-in/email (without the base path) or a pattern such as /two-factor/*"},
		{`{"rateLimit": {"customRules": [{"/x": false}]}}`, "config: rateLimit.customRules: want an object"},
		{`{"rateLimit": {"window": -1}}`, "RATE_LIMIT_WINDOW, RATE_LIMIT_MAX: want seconds and a count, got -1, 100"},
		{`{"basePath": "api/auth"}`, `BASE_PATH (basePath): want a path such as /api/auth, got "api/auth"`},
		{`{"basePath": "/api/../auth"}`, `BASE_PATH (basePath): want a path such as /api/auth, got "/api/../auth"`},
		{`{"emailVerification": {"expiresIn": 0}}`, "EMAIL_VERIFICATION_EXPIRES_IN: want 1 or more seconds, got 0"},
		{`{"socialProviders": {"github": {"disableSignUp": "yes"}}}`, `config: socialProviders.github.disableSignUp: want true or false, got "yes"`},
		{`{"account": {"accountLinking": {"allowDiferentEmails": true}}}`, "config: account.accountLinking.allowDiferentEmails: unknown key"},
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

// fromConfigFile loads body as AUTH_CONFIG (with vars as the environment) and answers the loaded
// config, for a test server to take the parts under test from.
func fromConfigFile(t *testing.T, body string, vars map[string]string) config {
	t.Helper()
	all := map[string]string{"BETTER_AUTH_SECRET": testSecret}
	maps.Copy(all, vars)
	c, err := loadConfig([]string{"-config", writeConfigFile(t, body)}, env(all))
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// TestConfigCommandShowsEachKeysSource: the keys of keys.json print with their key path and
// source, a variable winning over the file, and rateLimit.customRules (file only) as given.
func TestConfigCommandShowsEachKeysSource(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, []string{"BETTER_AUTH_SECRET=" + testSecret, "AUTH_GOOGLE_CLIENT_SECRET=s", "RATE_LIMIT_MAX=7",
		"AUTH_GOOGLE_DISABLE_IMPLICIT_SIGN_UP=false"}, "config", "-config", "testdata/config/keys.json")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, out)
	}
	for _, want := range []string{
		`  BASE_PATH = "/auth"  [basePath]  (file)`,
		`  RATE_LIMIT_WINDOW = "60"  [rateLimit.window]  (file)`,
		`  RATE_LIMIT_MAX = "7"  [rateLimit.max]  (env)`,
		`  EMAIL_VERIFICATION_EXPIRES_IN = "1800"  [emailVerification.expiresIn]  (file)`,
		`  RESET_PASSWORD_TOKEN_EXPIRES_IN = "900"  [emailAndPassword.resetPasswordTokenExpiresIn]  (file)`,
		`  DELETE_USER_TOKEN_EXPIRES_IN = "3600"  [user.deleteUser.deleteTokenExpiresIn]  (file)`,
		`  AUTH_GITHUB_DISABLE_SIGN_UP = "true"  [socialProviders.github.disableSignUp]  (file)`,
		`  AUTH_GOOGLE_DISABLE_IMPLICIT_SIGN_UP = "false"  [socialProviders.google.disableImplicitSignUp]  (env)`,
		`  AUTH_DISCORD_DISABLE_SIGN_UP = "false"  [socialProviders.discord.disableSignUp]  (default)`,
		`  ACCOUNT_LINKING_ALLOW_DIFFERENT_EMAILS = "true"  [account.accountLinking.allowDifferentEmails]  (file)`,
		`  ACCOUNT_LINKING_DISABLE_IMPLICIT_LINKING = "false"  [account.accountLinking.disableImplicitLinking]  (default)`,
		`  rateLimit.customRules = {"/sign-in/email":{"window":60,"max":5},"/two-factor/*":{"window":30,"max":10},"/get-session":false}  (file)`,
		`  user.additionalFields: not set  (default)`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("config output lacks %q", want)
		}
	}
}
