package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// linkValidFor answers the mail's link, failing unless its text says it works for validFor.
func linkValidFor(t *testing.T, m capturedMail, validFor string) string {
	t.Helper()
	if text := m.parse(t).Text; !strings.Contains(text, "valid for "+validFor) {
		t.Fatalf("the mail does not say %q:\n%s", validFor, text)
	}
	return m.link(t)
}

// TestTokenLifetimesFromConfigFile ensures emailVerification.expiresIn,
// emailAndPassword.resetPasswordTokenExpiresIn and user.deleteUser.deleteTokenExpiresIn set how
// long each mailed link works, as upstream signs and stores them: still good a second before,
// refused a second after; the mails say so.
func TestTokenLifetimesFromConfigFile(t *testing.T) {
	t.Parallel()
	file := fromConfigFile(t, `{
		"emailAndPassword": {"enabled": true, "resetPasswordTokenExpiresIn": 120},
		"emailVerification": {"sendOnSignUp": true, "expiresIn": 600},
		"user": {"deleteUser": {"enabled": true, "deleteTokenExpiresIn": 300}}
	}`, nil)
	ts, smtpd := newMailServer(t, func(c *config) {
		c.Email.SendOnSignUp, c.Email.DeleteUserVerification = file.Email.SendOnSignUp, true
		c.Email.VerificationExpiresIn = file.Email.VerificationExpiresIn
		c.Email.ResetPasswordExpiresIn = file.Email.ResetPasswordExpiresIn
		c.Email.DeleteTokenExpiresIn = file.Email.DeleteTokenExpiresIn
	})
	ts.clock.set(time.Now())
	for _, tt := range []struct {
		name  string
		ttl   time.Duration
		issue func(c *testClient, email string) string // the mailed link
		// works reports whether the link still works without spending it; nil: it cannot be
		// tried without being spent, so only the refusal after expiry is checked.
		works func(c *testClient, link string) bool
		// refused checks the link's answer once expired.
		refused func(t *testing.T, c *testClient, link string)
	}{
		{
			name: "emailVerification.expiresIn", ttl: 600 * time.Second,
			issue: func(c *testClient, email string) string {
				c.signUp(email, "password123", "V")
				return linkValidFor(t, smtpd.nextMail(t, email), "ten minutes")
			},
			works: func(c *testClient, link string) bool { return c.follow(link).location(t) == "/" },
			refused: func(t *testing.T, c *testClient, link string) {
				if loc := c.follow(link).location(t); loc != "/?error=TOKEN_EXPIRED" {
					t.Fatalf("expired verification link leads to %q", loc)
				}
			},
		},
		{
			name: "emailAndPassword.resetPasswordTokenExpiresIn", ttl: 120 * time.Second,
			issue: func(c *testClient, email string) string {
				c.signUp(email, "password123", "R")
				smtpd.nextMail(t, email) // the verification link
				c.post("/api/auth/request-password-reset", map[string]any{"email": email, "redirectTo": "/reset"}).wantStatus(t, http.StatusOK)
				return linkValidFor(t, smtpd.nextMail(t, email), "two minutes")
			},
			works: func(c *testClient, link string) bool {
				return strings.HasPrefix(c.follow(link).location(t), ts.URL+"/reset?token=")
			},
			refused: func(t *testing.T, c *testClient, link string) {
				if loc := c.follow(link).location(t); loc != ts.URL+"/reset?error=INVALID_TOKEN" {
					t.Fatalf("expired reset link leads to %q", loc)
				}
			},
		},
		{
			name: "user.deleteUser.deleteTokenExpiresIn", ttl: 300 * time.Second,
			issue: func(c *testClient, email string) string {
				c.signUp(email, "password123", "D")
				smtpd.nextMail(t, email)
				c.post("/api/auth/delete-user", nil).wantStatus(t, http.StatusOK)
				return smtpd.nextMail(t, email).link(t)
			},
			refused: func(t *testing.T, c *testClient, link string) {
				c.follow(link).wantError(t, http.StatusNotFound, "INVALID_TOKEN")
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ts.client(t)
			email := strings.ToLower(strings.NewReplacer(".", "-").Replace(tt.name)) + "@example.com"
			link := tt.issue(c, email)
			ts.clock.advance(tt.ttl - time.Second)
			if tt.works != nil && !tt.works(c, link) {
				t.Fatalf("link refused a second before its %v", tt.ttl)
			}
			ts.clock.advance(2 * time.Second)
			tt.refused(t, c, link)
		})
	}
	if userCount(t, ts, "user-deleteuser-deletetokenexpiresin@example.com") != 1 {
		t.Fatal("an expired delete link deleted the user")
	}
}

// TestSocialProviderSignUpSwitchesFromConfigFile ensures socialProviders.<id>.disableSignUp and
// disableImplicitSignUp as upstream's handleOAuthUserInfo takes them: a new user is refused
// (redirect flow: error=signup_disabled; ID token: 401 OAUTH_LINK_ERROR "signup disabled"), an
// existing user still signs in, and requestSignUp lifts only disableImplicitSignUp.
func TestSocialProviderSignUpSwitchesFromConfigFile(t *testing.T) {
	t.Parallel()
	file := fromConfigFile(t, `{"socialProviders": {
		"github": {"clientId": "gh", "disableSignUp": true},
		"google": {"clientId": "go", "disableImplicitSignUp": true}
	}}`, map[string]string{"AUTH_GOOGLE_CLIENT_SECRET": "s"})
	e := newOAuthEnv(t, []string{"github", "google"}, func(c *config) {
		for i, p := range c.OAuth.Providers {
			for _, fp := range file.OAuth.Providers {
				if fp.ID == p.ID {
					c.OAuth.Providers[i].DisableSignUp, c.OAuth.Providers[i].DisableImplicitSignUp = fp.DisableSignUp, fp.DisableImplicitSignUp
				}
			}
		}
	})
	existing := e.client(t).signUp("old@example.com", "password123", "Old")
	markVerified(t, e.testServer, "old@example.com")
	for i, tt := range []struct {
		name, provider, email string
		requestSignUp         bool
		idToken               bool
		signedIn              bool
	}{
		{"disableSignUp refuses a new user", "github", "new1@example.com", false, false, false},
		{"disableSignUp refuses a new user asking for sign-up", "github", "new2@example.com", true, false, false},
		{"disableSignUp lets an existing user in", "github", "old@example.com", false, false, true},
		{"disableImplicitSignUp refuses a new user", "google", "new3@example.com", false, false, false},
		{"disableImplicitSignUp signs up a user asking for it", "google", "new4@example.com", true, false, true},
		{"disableImplicitSignUp refuses a new user's ID token", "google", "new5@example.com", false, true, false},
		{"disableImplicitSignUp signs up an ID token asking for it", "google", "new6@example.com", true, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := fakeUser{Sub: fmt.Sprint(1000 + i), Login: "u", Name: "U", Email: tt.email, EmailVerified: true}
			idp := e.idps[tt.provider]
			c := e.client(t)
			body := map[string]any{"provider": tt.provider, "callbackURL": "/in", "errorCallbackURL": "/oops"}
			if tt.requestSignUp {
				body["requestSignUp"] = true
			}
			var resp *testResponse
			if tt.idToken {
				body["idToken"] = map[string]any{"token": idp.mint(idp.idTokenClaims(u, "n")), "nonce": "n"}
				resp = c.post("/api/auth/sign-in/social", body)
			} else {
				idp.signIn(u)
				resp = e.socialSignIn(t, c, body)
			}
			switch {
			case tt.signedIn && tt.idToken:
				resp.wantStatus(t, http.StatusOK)
			case tt.signedIn:
				resp.wantRedirect(t, "/in")
			case tt.idToken:
				resp.wantError(t, http.StatusUnauthorized, "OAUTH_LINK_ERROR")
				if msg := resp.object(t)["message"]; msg != "signup disabled" {
					t.Fatalf("message %v", msg)
				}
			default:
				resp.wantOAuthError(t, "/oops", "signup_disabled")
			}
			if got := c.sessionUser(t); (got == tt.email) != tt.signedIn {
				t.Fatalf("session of %q", got)
			}
			if n := userCount(t, e.testServer, tt.email); n != 1 && tt.signedIn || n != 0 && !tt.signedIn {
				t.Fatalf("%d users %s", n, tt.email)
			}
		})
	}
	if e.rowCount(t, "user") != 3 || existing["email"] != "old@example.com" {
		t.Fatalf("%d users, want the existing one and the two that asked for sign-up", e.rowCount(t, "user"))
	}
}

// TestAccountLinkingFromConfigFile ensures each account.accountLinking option changes linking as
// upstream's handleOAuthUserInfo, linkOAuthAccount, linkSocial and unlinkAccount take it; the
// defaults are TestProviderSignInLinksToExistingUser's and TestLinkSocialWithIDToken's.
func TestAccountLinkingFromConfigFile(t *testing.T) {
	t.Parallel()
	// signIn signs gina in with Google (email verified there) next to a local gina whose email is
	// verified or not, and says whether the account joined her.
	signIn := func(localVerified bool) func(t *testing.T, e *oauthEnv) string {
		return func(t *testing.T, e *oauthEnv) string {
			e.client(t).signUp("gina@example.com", "password123", "Gina")
			if localVerified {
				markVerified(t, e.testServer, "gina@example.com")
			}
			e.idps["google"].signIn(fakeUser{Sub: "g-1", Name: "Gina", Email: "gina@example.com", EmailVerified: true})
			resp := e.socialSignIn(t, e.client(t), map[string]any{"provider": "google", "callbackURL": "/in", "errorCallbackURL": "/oops"})
			if resp.location(t) == "/in" {
				return "linked"
			}
			return resp.location(t)
		}
	}
	// linkIDToken links a Google ID token for email to a signed-in gina and answers the outcome.
	linkIDToken := func(email string) func(t *testing.T, e *oauthEnv) string {
		return func(t *testing.T, e *oauthEnv) string {
			c := e.client(t)
			c.signUp("gina@example.com", "password123", "Gina")
			idp := e.idps["google"]
			resp := c.post("/api/auth/link-social", map[string]any{"provider": "google",
				"idToken": map[string]any{"token": idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-1", Email: email, EmailVerified: true}, ""))}})
			if resp.Status == http.StatusOK {
				return "linked"
			}
			return fmt.Sprint(resp.Status, " ", resp.object(t)["code"])
		}
	}
	unlinkLast := func(t *testing.T, e *oauthEnv) string {
		c := e.client(t)
		c.signUp("gina@example.com", "password123", "Gina")
		resp := c.post("/api/auth/unlink-account", map[string]any{"accountId": c.accountsOf(t)["credential"].ID})
		if resp.Status == http.StatusOK {
			return fmt.Sprint("unlinked, ", e.rowCount(t, "account"), " accounts left")
		}
		return fmt.Sprint(resp.Status, " ", resp.object(t)["code"])
	}
	for _, tt := range []struct {
		name, linking string // account.accountLinking in the file
		run           func(t *testing.T, e *oauthEnv) string
		want          string
	}{
		{"enabled false: sign-in does not join an existing user", `{"enabled": false}`, signIn(true), "/oops?error=account_not_linked"},
		{"disableImplicitLinking: sign-in does not join an existing user", `{"disableImplicitLinking": true}`, signIn(true), "/oops?error=account_not_linked"},
		{"requireLocalEmailVerified false: sign-in joins an unverified user", `{"requireLocalEmailVerified": false}`, signIn(false), "linked"},
		{"enabled false: link-social refuses", `{"enabled": false}`, linkIDToken("gina@example.com"), "401 LINKING_NOT_ALLOWED"},
		{"allowDifferentEmails: link-social links another email", `{"allowDifferentEmails": true}`, linkIDToken("gigi@example.com"), "linked"},
		{"allowUnlinkingAll: the last account unlinks", `{"allowUnlinkingAll": true}`, unlinkLast, "unlinked, 0 accounts left"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := fromConfigFile(t, `{"account": {"accountLinking": `+tt.linking+`}}`, nil)
			e := newOAuthEnv(t, []string{"google"}, func(c *config) { c.OAuth.Linking = file.OAuth.Linking })
			if got := tt.run(t, e); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBasePathMovesEveryRoute ensures basePath serves the routes under another prefix, as
// upstream's router does: requests there are answered (and rate-limited by the path below it),
// /api/auth is not found, and the links the server mails or redirects to (verification links,
// provider redirect URIs) carry the new prefix.
func TestBasePathMovesEveryRoute(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ basePath, prefix string }{
		{"/auth/", "/auth"},
		{"/v1/identity", "/v1/identity"},
		{"/", ""},
	} {
		t.Run(tt.basePath, func(t *testing.T) {
			t.Parallel()
			file := fromConfigFile(t, `{"basePath": "`+tt.basePath+`"}`, nil)
			e := newOAuthEnv(t, []string{"github"}, func(c *config) {
				c.BasePath, c.Email.SendOnSignUp, c.RateLimit = file.BasePath, true, true
			})
			e.idps["github"].redirectURI = e.URL + tt.prefix + "/callback/github"
			c := e.client(t)
			c.get("/api/auth/get-session").wantStatus(t, http.StatusNotFound)
			resp := c.post(tt.prefix+"/sign-up/email", map[string]any{"email": "base@example.com", "password": "password123", "name": "B"})
			resp.wantStatus(t, http.StatusOK)
			if got := string(c.get(tt.prefix + "/get-session").Body); !strings.Contains(got, `"email":"base@example.com"`) {
				t.Fatalf("get-session at %s: %s", tt.prefix, got)
			}
			link := e.waitMail(t, "verify-email", "base@example.com").URL
			if !strings.HasPrefix(link, e.URL+tt.prefix+"/verify-email?token=") {
				t.Fatalf("verification link %q", link)
			}
			if loc := c.follow(link).location(t); loc != "/" {
				t.Fatalf("verification link leads to %q", loc)
			}
			e.idps["github"].signIn(fakeUser{Sub: "77", Login: "o", Name: "O", Email: "octo@example.com", EmailVerified: true})
			authURL := c.startSocial(t, tt.prefix+"/sign-in/social", map[string]any{"provider": "github", "callbackURL": "/in"})
			if !strings.Contains(authURL, "redirect_uri="+url.QueryEscape(e.URL+tt.prefix+"/callback/github")) {
				t.Fatalf("authorization URL %q", authURL)
			}
			c.callback(t, e.authorize(t, authURL)).wantRedirect(t, "/in")
			for range 3 { // the sign-in rule, 3 per 10 s, counts the path below the prefix
				c.post(tt.prefix+"/sign-in/email", map[string]any{"email": "base@example.com", "password": "wrong-password"}).wantError(t, 401, "INVALID_EMAIL_OR_PASSWORD")
			}
			c.post(tt.prefix+"/sign-in/email", map[string]any{"email": "base@example.com", "password": "wrong-password"}).wantStatus(t, http.StatusTooManyRequests)
		})
	}
}

// otpPattern finds the code in an email-otp mail, however many digits otpLength gives it.
var otpPattern = regexp.MustCompile(`\b[0-9]{4,}\b`)

// TestPluginOptionsFromConfigFile ensures the email-otp and magic-link entries' options as the
// plugins take them: otpLength digits, codes and links valid for expiresIn, allowedAttempts wrong
// codes, and the plugin's rateLimit replacing its routes' rule.
func TestPluginOptionsFromConfigFile(t *testing.T) {
	t.Parallel()
	file := fromConfigFile(t, `{"plugins": [
		{"id": "email-otp", "expiresIn": 60, "otpLength": 8, "allowedAttempts": 1, "rateLimit": {"window": 30, "max": 2}},
		{"id": "magic-link", "expiresIn": 120, "rateLimit": {"window": 20, "max": 1}}
	]}`, nil)
	ts, smtpd := newMailServer(t, func(c *config) {
		f := file.Email
		c.RateLimit = true
		c.Email.OTPExpiresIn, c.Email.OTPLength, c.Email.OTPAllowedAttempts, c.Email.OTPRateLimit = f.OTPExpiresIn, f.OTPLength, f.OTPAllowedAttempts, f.OTPRateLimit
		c.Email.MagicLinkExpiresIn, c.Email.MagicLinkRateLimit = f.MagicLinkExpiresIn, f.MagicLinkRateLimit
	})
	ts.clock.set(time.Now())
	code := func(t *testing.T, email string) string {
		ts.client(t).post("/api/auth/email-otp/send-verification-otp", map[string]any{"email": email, "type": "sign-in"}).wantStatus(t, http.StatusOK)
		m := smtpd.nextMail(t, email)
		if text := m.parse(t).Text; !strings.Contains(text, "valid for one minute") {
			t.Fatalf("the mail says another lifetime:\n%s", text)
		}
		return otpPattern.FindString(m.parse(t).Text)
	}
	signIn := func(c *testClient, email, otp string) *testResponse {
		return c.post("/api/auth/sign-in/email-otp", map[string]any{"email": email, "otp": otp})
	}
	link := func(t *testing.T, email string) string {
		ts.client(t).post("/api/auth/sign-in/magic-link", map[string]any{"email": email, "callbackURL": "/in"}).wantStatus(t, http.StatusOK)
		m := smtpd.nextMail(t, email)
		if text := m.parse(t).Text; !strings.Contains(text, "valid for two minutes") {
			t.Fatalf("the mail says another lifetime:\n%s", text)
		}
		return m.link(t)
	}
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c *testClient)
	}{
		{"email-otp otpLength", func(t *testing.T, c *testClient) {
			if got := code(t, "length@example.com"); len(got) != 8 || strings.Trim(got, "0123456789") != "" {
				t.Fatalf("code %q, want 8 digits", got)
			}
		}},
		{"email-otp expiresIn", func(t *testing.T, c *testClient) {
			first := code(t, "expires@example.com")
			ts.clock.advance(59 * time.Second)
			signIn(c, "expires@example.com", first).wantStatus(t, http.StatusOK)
			ts.clock.advance(31 * time.Second) // a new rate-limit window
			second := code(t, "expires@example.com")
			ts.clock.advance(61 * time.Second)
			signIn(c, "expires@example.com", second).wantError(t, http.StatusBadRequest, "OTP_EXPIRED")
		}},
		{"email-otp allowedAttempts", func(t *testing.T, c *testClient) {
			otp := code(t, "attempts@example.com")
			signIn(c, "attempts@example.com", strings.Repeat("0", 8)).wantError(t, http.StatusBadRequest, "INVALID_OTP")
			signIn(c, "attempts@example.com", otp).wantError(t, http.StatusForbidden, "TOO_MANY_ATTEMPTS")
		}},
		{"email-otp rateLimit", func(t *testing.T, c *testClient) {
			for range 2 {
				signIn(c, "nobody@example.com", "12345678").wantStatus(t, http.StatusBadRequest)
			}
			wantLimited(t, signIn(c, "nobody@example.com", "12345678"), "30")
		}},
		{"magic-link expiresIn", func(t *testing.T, c *testClient) {
			first := link(t, "magic@example.com")
			ts.clock.advance(119 * time.Second)
			if loc := c.follow(first).location(t); loc != ts.URL+"/in" {
				t.Fatalf("link a second before expiry leads to %q", loc)
			}
			second := link(t, "magic@example.com")
			ts.clock.advance(121 * time.Second)
			if loc := c.follow(second).location(t); loc != ts.URL+"/in?error=INVALID_TOKEN" {
				t.Fatalf("expired link leads to %q", loc)
			}
		}},
		{"magic-link rateLimit", func(t *testing.T, c *testClient) {
			link(t, "limited@example.com")
			wantLimited(t, c.post("/api/auth/sign-in/magic-link", map[string]any{"email": "limited@example.com"}), "20")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts.clock.advance(time.Minute) // every rate-limit window of the case before has passed
			tt.run(t, ts.client(t))
		})
	}
}

// TestTwoFactorOptionsFromConfigFile ensures the two-factor entry's options as upstream's
// twoFactor() takes them: the trust_device and two_factor cookies' lifetimes, and the mailed
// code's digits, period (minutes) and allowed wrong attempts.
func TestTwoFactorOptionsFromConfigFile(t *testing.T) {
	t.Parallel()
	file := fromConfigFile(t, `{"plugins": [{"id": "two-factor", "trustDeviceMaxAge": 86400, "twoFactorCookieMaxAge": 120,
		"otpOptions": {"period": 1, "digits": 8, "allowedAttempts": 1}}]}`, nil)
	ts := newTestServer(t, func(c *config) { c.TwoFactor = file.TwoFactor })
	ts.clock.set(stepStart)
	u := enrolTOTP(t, ts, ts.client(t), "options@example.com")
	var last string // waitMail answers the latest mail: wait for the one after it
	mailedCode := func(c *testClient) string {
		c.post("/api/auth/two-factor/send-otp", nil).wantStatus(t, 200)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if code := ts.waitMail(t, "two-factor-otp", u.email).OTP; code != last {
				last = code
				return code
			}
		}
		t.Fatal("no new two-factor code")
		return ""
	}
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, c *testClient)
	}{
		{"twoFactorCookieMaxAge", func(t *testing.T, c *testClient) {
			if got := c.signInChallenged(u, nil).setCookie("better-auth.two_factor"); !strings.Contains(got, "; Max-Age=120;") {
				t.Fatalf("two_factor cookie %q", got)
			}
		}},
		{"trustDeviceMaxAge", func(t *testing.T, c *testClient) {
			c.signInChallenged(u, nil)
			resp := c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0), "trustDevice": true}).wantStatus(t, 200)
			if got := resp.setCookie("better-auth.trust_device"); !strings.Contains(got, "; Max-Age=86400;") {
				t.Fatalf("trust_device cookie %q", got)
			}
		}},
		{"otpOptions.digits and allowedAttempts", func(t *testing.T, c *testClient) {
			c.signInChallenged(u, nil)
			code := mailedCode(c)
			if !regexp.MustCompile(`^[0-9]{8}$`).MatchString(code) {
				t.Fatalf("code %q, want 8 digits", code)
			}
			wrong := strings.Repeat("0", 8)
			if code == wrong {
				wrong = strings.Repeat("1", 8)
			}
			c.post("/api/auth/two-factor/verify-otp", map[string]any{"code": wrong}).wantError(t, 401, "INVALID_CODE")
			c.post("/api/auth/two-factor/verify-otp", map[string]any{"code": code}).wantError(t, 400, "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
		}},
		{"otpOptions.period", func(t *testing.T, c *testClient) {
			c.signInChallenged(u, nil)
			code := mailedCode(c)
			ts.clock.advance(time.Minute + time.Second)
			c.post("/api/auth/two-factor/verify-otp", map[string]any{"code": code}).wantError(t, 400, "OTP_HAS_EXPIRED")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts.clock.advance(30 * time.Second) // a fresh TOTP step
			tt.run(t, ts.client(t))
		})
	}
}
