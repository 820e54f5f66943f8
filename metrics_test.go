package main

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// series is one sample of a scrape: its name, labels and value.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	seriesLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape GETs /metrics from the metrics listener and parses the text exposition format.
func scrape(t testing.TB, metricsURL string) []series {
	t.Helper()
	resp, err := http.Get(metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	var out []series
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unparsable metrics line %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := series{name: m[1], labels: map[string]string{}, value: v}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[p[1]] = p[2]
		}
		out = append(out, s)
	}
	return out
}

// sample returns the value of the series with name and exactly labels, or -1 when absent.
func sample(all []series, name string, labels map[string]string) float64 {
	for _, s := range all {
		if s.name == name && maps.Equal(s.labels, labels) {
			return s.value
		}
	}
	return -1
}

// newMetricsServer starts a test server with metrics on and its METRICS_ADDR listener.
func newMetricsServer(t testing.TB, opts ...func(*config)) (*testServer, string) {
	t.Helper()
	ts := newTestServer(t, append(opts, withMetrics)...)
	return ts, metricsListener(t, ts)
}

// withMetrics turns the metrics on; metricsListener then serves them.
func withMetrics(c *config) { c.Ops.MetricsAddr = "127.0.0.1:0" }

// metricsListener serves the METRICS_ADDR routes of a server started withMetrics.
func metricsListener(t testing.TB, ts *testServer) string {
	t.Helper()
	ms := httptest.NewServer(metricsRoutes(ts.server))
	t.Cleanup(ms.Close)
	return ms.URL
}

// TestMetricsCountRequestsAndSignInsByRoutePatternWithoutPersonalData makes real requests, then
// scrapes /metrics over HTTP: requests are counted by route pattern, method and status, sign-ins
// and sign-ups by method and reason code, the 429 by its rule, the mail sent and the cookie
// cache's answers; and no email, token or id appears in any label.
func TestMetricsCountRequestsAndSignInsByRoutePatternWithoutPersonalData(t *testing.T) {
	t.Parallel()
	ts, metricsURL := newMetricsServer(t, func(c *config) { c.RateLimit = true; c.CookieCacheMaxAge = 300 })
	ts.clock.set(time.Now()) // the 10-second sign-in window must not pass on a loaded machine
	c := ts.client(t)
	user := c.signUp("metrics-user@example.com", "password123", "Metrics")
	token := c.cookieToken()
	c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	c.get("/api/auth/get-session?disableCookieCache=true").wantStatus(t, http.StatusOK)
	// A token in the path must be counted under its pattern, not as a path of its own.
	c.get("/api/auth/reset-password/secret-reset-token-xyz?callbackURL=%2F").wantStatus(t, http.StatusFound)
	c.post("/api/auth/request-password-reset", map[string]any{"email": "metrics-user@example.com", "redirectTo": "/r"}).wantStatus(t, http.StatusOK)
	reset := ts.waitMail(t, "reset-password", "metrics-user@example.com")
	ts.waitOutboxEmpty(t) // the worker counts a mail before it leaves the outbox
	other := ts.client(t)
	other.post("/api/auth/sign-in/email", map[string]any{"email": "metrics-user@example.com", "password": "wrong-password"}).wantError(t, http.StatusUnauthorized, "INVALID_EMAIL_OR_PASSWORD")
	other.post("/api/auth/sign-in/email", map[string]any{"email": "metrics-user@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
	other.post("/api/auth/sign-in/email", map[string]any{"email": "metrics-user@example.com", "password": "password123"}).wantStatus(t, http.StatusOK)
	other.post("/api/auth/sign-in/email", map[string]any{"email": "metrics-user@example.com", "password": "password123"}).wantStatus(t, http.StatusTooManyRequests)
	c.get("/api/auth/no-such-route/metrics-user@example.com").wantStatus(t, http.StatusNotFound)

	all := scrape(t, metricsURL)
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"authsidecar_http_requests_total", map[string]string{"route": "/api/auth/sign-up/email", "method": "POST", "status": "200"}, 1},
		{"authsidecar_http_requests_total", map[string]string{"route": "/api/auth/get-session", "method": "GET", "status": "200"}, 2},
		{"authsidecar_http_requests_total", map[string]string{"route": "/api/auth/reset-password/{token}", "method": "GET", "status": "302"}, 1},
		{"authsidecar_http_requests_total", map[string]string{"route": "/api/auth/sign-in/email", "method": "POST", "status": "429"}, 1},
		{"authsidecar_http_requests_total", map[string]string{"route": "(no route)", "method": "GET", "status": "404"}, 1},
		{"authsidecar_http_request_duration_seconds_count", map[string]string{"route": "/api/auth/sign-in/email", "method": "POST"}, 4},
		{"authsidecar_sign_up_total", map[string]string{"method": "email", "outcome": "success", "reason": "none"}, 1},
		{"authsidecar_sign_in_total", map[string]string{"method": "email", "outcome": "success", "reason": "none"}, 2},
		{"authsidecar_sign_in_total", map[string]string{"method": "email", "outcome": "failure", "reason": "INVALID_EMAIL_OR_PASSWORD"}, 1},
		{"authsidecar_sign_in_total", map[string]string{"method": "email", "outcome": "failure", "reason": "HTTP_429"}, 1},
		{"authsidecar_rate_limited_total", map[string]string{"rule": "sign-in"}, 1},
		{"authsidecar_mails_total", map[string]string{"type": "reset-password", "result": "sent"}, 1},
		{"authsidecar_cookie_cache_lookups_total", map[string]string{"result": "hit"}, 1},
		{"authsidecar_mail_outbox_depth", map[string]string{}, 0},
		{"authsidecar_scrypt_queue_depth", map[string]string{}, 0},
		{"authsidecar_scrypt_wait_seconds_count", map[string]string{}, 4}, // sign-up and three sign-ins
	}
	for _, w := range want {
		if got := sample(all, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
	for _, name := range []string{"authsidecar_db_pool_total_conns", "authsidecar_db_pool_acquires_total", "go_goroutines", "process_resident_memory_bytes", "authsidecar_mail_outbox_oldest_seconds"} {
		if sample(all, name, map[string]string{}) < 0 {
			t.Errorf("scrape lacks %s", name)
		}
	}
	secrets := []string{"metrics-user", "@", token, user["id"].(string), "secret-reset-token-xyz", reset.Token}
	for _, s := range all {
		for k, v := range s.labels {
			for _, secret := range secrets {
				if secret != "" && strings.Contains(v, secret) {
					t.Errorf("%s label %s=%q holds %q", s.name, k, v, secret)
				}
			}
		}
	}
}

// waitOutboxEmpty waits up to 5 s for the mail worker to finish with every queued mail.
func (ts *testServer) waitOutboxEmpty(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ts.rowCount(t, "mailOutbox") > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the mail outbox did not empty in 5 s")
		}
	}
}

// TestMetricsLabelsStayBoundedForInventedMethodsAndReasons sends methods and provider error codes
// a client makes up: they are counted as OTHER, never as series of their own.
func TestMetricsLabelsStayBoundedForInventedMethodsAndReasons(t *testing.T) {
	t.Parallel()
	ts, metricsURL := newMetricsServer(t)
	c := ts.client(t)
	c.do("BREW", "/api/auth/ok", nil).wantStatus(t, http.StatusNotFound)
	b := boundedLabels{max: 2}
	if got := []string{b.label("A"), b.label("B"), b.label("C"), b.label("A"), b.label("x@y")}; strings.Join(got, ",") != "A,B,OTHER,A,OTHER" {
		t.Fatalf("bounded labels = %v", got)
	}
	all := scrape(t, metricsURL)
	if got := sample(all, "authsidecar_http_requests_total", map[string]string{"route": "(no route)", "method": "OTHER", "status": "404"}); got != 1 {
		t.Fatalf("invented method counted %v times as OTHER", got)
	}
}

// TestMetricsListenerServesReadinessAndPprofOnlyWhenAsked checks /readyz on a migrated database,
// and that pprof is served only with METRICS_PPROF and never on the public port.
func TestMetricsListenerServesReadinessAndPprofOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	for _, pprofOn := range []bool{false, true} {
		ts, metricsURL := newMetricsServer(t, func(c *config) { c.Ops.Pprof = pprofOn })
		get := func(url string) int {
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := get(metricsURL + "/readyz"); got != http.StatusOK {
			t.Fatalf("readyz = %d", got)
		}
		want := http.StatusNotFound
		if pprofOn {
			want = http.StatusOK
		}
		if got := get(metricsURL + "/debug/pprof/cmdline"); got != want {
			t.Fatalf("pprof %v: cmdline = %d, want %d", pprofOn, got, want)
		}
		for _, p := range []string{"/metrics", "/readyz", "/debug/pprof/cmdline", "/api/auth/metrics"} {
			if got := get(ts.URL + p); got != http.StatusNotFound {
				t.Fatalf("public port serves %s: %d", p, got)
			}
		}
	}
}

// TestReadinessFailsWhenSchemaIsMissing drops a column the schema adds: /readyz answers 503
// until migrate puts it back.
func TestReadinessFailsWhenSchemaIsMissing(t *testing.T) {
	t.Parallel()
	ts, metricsURL := newMetricsServer(t)
	ts.exec(t, `ALTER TABLE "team" DROP COLUMN "memberCount"`)
	resp, err := http.Get(metricsURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz without team.memberCount = %d", resp.StatusCode)
	}
	if err := migrate(t.Context(), ts.db); err != nil {
		t.Fatal(err)
	}
	if err := ts.schemaApplied(t.Context()); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
}

// TestMetricsCountTwoFactorChallengesAndTheirSignIns: a password sign-in answered with a
// two-factor challenge counts as a challenge, and the TOTP step that completes it as a
// two-factor sign-in.
func TestMetricsCountTwoFactorChallengesAndTheirSignIns(t *testing.T) {
	t.Parallel()
	ts, metricsURL := newMetricsServer(t)
	ts.clock.set(stepStart)
	u := enrolTOTP(t, ts, ts.client(t), "metrics-2fa@example.com")
	c := ts.client(t)
	c.signInChallenged(u, nil)
	c.post("/api/auth/two-factor/verify-totp", map[string]any{"code": u.code(ts, 0)}).wantStatus(t, http.StatusOK)
	all := scrape(t, metricsURL)
	for _, w := range []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"authsidecar_two_factor_challenges_total", map[string]string{}, 1},
		{"authsidecar_sign_in_total", map[string]string{"method": "email", "outcome": "challenge", "reason": "TWO_FACTOR_REQUIRED"}, 1},
		// The challenge's answer; enrolment's confirmation, also verify-totp, is no sign-in.
		{"authsidecar_sign_in_total", map[string]string{"method": "two_factor", "outcome": "success", "reason": "none"}, 1},
	} {
		if got := sample(all, w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

// TestSignInRoutesOfTheMetricsAreRoutes: every route the sign-in metrics classify is one routes.go
// registers, so a renamed route cannot silently stop being counted.
func TestSignInRoutesOfTheMetricsAreRoutes(t *testing.T) {
	t.Parallel()
	table, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	for pattern := range authRoutes {
		if !strings.Contains(string(table), `mux.Handle("`+pattern+`"`) {
			t.Errorf("authRoutes names %q, which routes.go does not register", pattern)
		}
	}
}

// TestMetricsCountUserCreationByEveryMethod: a sign-in that creates its user counts as a sign-up
// of its method (social redirect and ID token, magic link, email OTP, SSO by OIDC and by SAML), a
// refused creation as a failed sign-up with its reason, and a returning user as a sign-in.
func TestMetricsCountUserCreationByEveryMethod(t *testing.T) {
	t.Parallel()
	type count struct {
		metric, method, outcome, reason string
		value                           float64
	}
	signUp := func(method, outcome, reason string, v float64) count {
		return count{"authsidecar_sign_up_total", method, outcome, reason, v}
	}
	signIn := func(method, outcome, reason string, v float64) count {
		return count{"authsidecar_sign_in_total", method, outcome, reason, v}
	}
	tests := []struct {
		name string
		run  func(t *testing.T) string // runs the flows, returns the metrics URL
		want []count
	}{
		{"social redirect", func(t *testing.T) string {
			e := newOAuthEnv(t, []string{"github"}, withMetrics)
			e.idps["github"].signIn(fakeUser{Sub: "12345", Login: "octo", Name: "Octo Cat", Email: "octo@example.com", EmailVerified: true})
			body := map[string]any{"provider": "github", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}
			e.socialSignIn(t, e.client(t), body).wantRedirect(t, "/welcome")
			e.socialSignIn(t, e.client(t), body).wantRedirect(t, "/dashboard")
			return metricsListener(t, e.testServer)
		}, []count{signUp("social", "success", "none", 1), signIn("social", "success", "none", 1)}},
		{"social ID token", func(t *testing.T) string {
			e := newOAuthEnv(t, []string{"google"}, withMetrics)
			idp := e.idps["google"]
			for _, nonce := range []string{"n-1", "n-2"} { // an ID token is used once
				token := idp.mint(idp.idTokenClaims(fakeUser{Sub: "g-7", Name: "Gus", Email: "gus@example.com", EmailVerified: true}, nonce))
				e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": token, "nonce": nonce}}).
					wantStatus(t, http.StatusOK)
			}
			e.client(t).post("/api/auth/sign-in/social", map[string]any{"provider": "google", "idToken": map[string]any{"token": "opaque", "nonce": "n-1"}}).
				wantError(t, http.StatusUnauthorized, "INVALID_TOKEN")
			return metricsListener(t, e.testServer)
		}, []count{signUp("social", "success", "none", 1), signIn("social", "success", "none", 1), signIn("social", "failure", "INVALID_TOKEN", 1)}},
		{"magic link", func(t *testing.T) string {
			ts, smtpd := newMailServer(t, withMetrics)
			link := magicLink(t, ts, smtpd, "fresh@example.com", map[string]any{"callbackURL": "/dash"})
			ts.client(t).follow(link).wantStatus(t, http.StatusFound)
			ts.client(t).follow(magicLink(t, ts, smtpd, "fresh@example.com", map[string]any{"callbackURL": "/dash"})).wantStatus(t, http.StatusFound)
			return metricsListener(t, ts)
		}, []count{signUp("magic_link", "success", "none", 1), signIn("magic_link", "success", "none", 1)}},
		{"magic link with sign-up off", func(t *testing.T) string {
			ts, smtpd := newMailServer(t, withMetrics, func(c *config) { c.Email.PasswordlessSignUp = false })
			ts.client(t).follow(magicLink(t, ts, smtpd, "stranger@example.com", map[string]any{"callbackURL": "/dash"})).wantStatus(t, http.StatusFound)
			return metricsListener(t, ts)
		}, []count{signUp("magic_link", "failure", "new_user_signup_disabled", 1), signIn("magic_link", "failure", "new_user_signup_disabled", -1)}},
		{"email OTP", func(t *testing.T) string {
			ts, smtpd := newMailServer(t, withMetrics)
			for range 2 {
				code := sendOTP(t, ts, smtpd, "sign-in", "new@example.com")
				ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "new@example.com", "otp": code}).wantStatus(t, http.StatusOK)
			}
			return metricsListener(t, ts)
		}, []count{signUp("otp", "success", "none", 1), signIn("otp", "success", "none", 1)}},
		{"SSO by OIDC", func(t *testing.T) string {
			e := newSSOEnv(t, withMetrics)
			e.register(t, e.owner, nil)
			e.idp.signIn(fakeUser{Sub: "sub-1", Name: "Bob", Email: "bob@acme.com", EmailVerified: true})
			body := map[string]any{"email": "bob@acme.com", "callbackURL": "/dashboard", "newUserCallbackURL": "/welcome"}
			e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/welcome")
			e.ssoSignIn(t, e.client(t), body).wantRedirect(t, "/dashboard")
			return metricsListener(t, e.testServer)
		}, []count{signUp("sso", "success", "none", 1), signIn("sso", "success", "none", 1), signUp("email", "success", "none", 1)}},
		{"SSO by SAML", func(t *testing.T) string {
			e := newSAMLEnv(t, withMetrics)
			e.registerSAML(t, "acme", nil, nil)
			for range 2 {
				c := e.client(t)
				c.postToACS(t, acsPath("acme"), e.startSAML(t, c, "acme")).wantRedirect(t, "/dashboard")
			}
			return metricsListener(t, e.testServer)
		}, []count{signUp("sso", "success", "none", 1), signIn("sso", "success", "none", 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			all := scrape(t, tc.run(t))
			for _, w := range tc.want {
				labels := map[string]string{"method": w.method, "outcome": w.outcome, "reason": w.reason}
				if got := sample(all, w.metric, labels); got != w.value {
					t.Errorf("%s%v = %v, want %v", w.metric, labels, got, w.value)
				}
			}
		})
	}
}
