package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const appOrigin = "https://app.example.com"

// originConfig is the trust setup the origin tests share: the app, an exact extra origin, a
// scheme wildcard, a host-only wildcard, an address-range wildcard and a mobile app scheme.
func originConfig(c *config) {
	c.BaseURL = appOrigin
	c.TrustedOrigins = []string{"http://localhost:3000", "https://*.example.org", "*.wild.example", "http://192.168.*.*", "myapp://callback"}
}

// redirectTargets is the adversarial table for callback URLs. Each row says which attack
// it stops, as tsweb.CleanRedirectURL's tests do; rows marked ok must stay allowed.
var redirectTargets = []struct {
	url string
	ok  bool
	why string
}{
	// Allowed.
	{"/dashboard", true, "a root-relative path stays on this host"},
	{"/a/b?next=https://evil.com#x", true, "a foreign URL in the query is just data"},
	{"/%09/evil.com", true, "an encoded tab stays in the path; browsers do not decode it into the authority"},
	{"https://app.example.com", true, "the app's own origin"},
	{"https://app.example.com/any/path?q=1", true, "only the origin is compared"},
	{"HTTPS://APP.EXAMPLE.COM/x", true, "scheme and host compare case-insensitively, as browsers read them"},
	{"https://app.example.com:443/x", true, "the default port is the same origin"},
	{"http://localhost:3000/cb", true, "an exact trusted origin"},
	{"https://sub.example.org/cb", true, "scheme wildcard"},
	{"https://a.b.example.org", true, "the wildcard spans subdomain levels, as upstream's does"},
	{"https://x.wild.example/cb", true, "host-only wildcard over https"},
	{"http://192.168.1.20:8080", true, "address-range wildcard on an IPv4 host"},
	{"myapp://callback", true, "the app scheme"},
	{"MYAPP://CALLBACK/done", true, "the app scheme, case-insensitive scheme and authority"},

	// Refused.
	{"https:/evil.com", false, "browsers read one slash as https://evil.com"},
	{"https:evil.com", false, "browsers read a missing slash as https://evil.com"},
	{"https:///evil.com", false, "three slashes: browsers skip them to evil.com"},
	{"//evil.com", false, "protocol-relative: the browser keeps the scheme and goes to evil.com"},
	{"///evil.com", false, "protocol-relative with an extra slash"},
	{`\\evil.com`, false, "browsers treat backslashes as slashes: //evil.com"},
	{`/\evil.com`, false, "/\\ is // to a browser"},
	{`https:\\evil.com`, false, "backslashes after the scheme"},
	{`https://app.example.com\@evil.com`, false, "backslash before @ splits parsers"},
	{"https://good@evil.com", false, "user-info: the host is evil.com"},
	{"https://app.example.com@evil.com", false, "user-info that looks like the trusted host"},
	{"https://app.example.com:pw@evil.com", false, "user-info with a password"},
	{"https://app.example.com%40evil.com", false, "percent-encoded @"},
	{"https://app%2Eexample.com", false, "percent-encoded host: refused rather than guess how it decodes"},
	{"javascript:alert(1)", false, "script URL"},
	{"JavaScript:alert(1)", false, "script URL in mixed case"},
	{" javascript:alert(1)", false, "leading space, which browsers strip"},
	{"java\tscript:alert(1)", false, "tab inside the scheme, which browsers strip"},
	{"data:text/html,<script>alert(1)</script>", false, "data URL"},
	{"vbscript:msgbox(1)", false, "vbscript URL"},
	{"/%2F%2Fevil.com", false, "encoded slashes that a router may decode into //evil.com"},
	{"/%2f%2fevil.com", false, "the same in lower case"},
	{"/%5Cevil.com", false, "an encoded backslash"},
	{"%2F%2Fevil.com", false, "not a path, not a URL"},
	{"/dashboard\r\nLocation: https://evil.com", false, "header injection through CR LF"},
	{"/\t/evil.com", false, "a raw tab, which browsers strip to //evil.com"},
	{"https://app.example.com\n.evil.com", false, "a raw newline in the host"},
	{"https://app.example.com.", false, "trailing dot: another origin string"},
	{"https://app.example.com.evil.com", false, "look-alike: the trusted host as a subdomain of evil.com"},
	{"https://evilapp.example.com", false, "look-alike: a sibling host"},
	{"https://app-example.com", false, "look-alike: a dash for the dot"},
	{"https://xn--pp-8cd.example.com", false, "look-alike: punycode"},
	{"https://аpp.example.com", false, "look-alike: Cyrillic а"},
	{"https://app.example.co", false, "look-alike: another TLD"},
	{"http://app.example.com", false, "downgrade to http"},
	{"https://app.example.com:8443", false, "another port is another origin"},
	{"https://evil.com#@app.example.com", false, "the trusted host in the fragment"},
	{"https://evil.com?https://app.example.com", false, "the trusted host in the query"},
	{"https://evil.com/https://app.example.com", false, "the trusted host in the path"},
	{"https://example.org", false, "the wildcard needs a subdomain"},
	{"https://evil.com/.example.org", false, "the wildcard's suffix in the path"},
	{"https://sub.example.org.evil.com", false, "the wildcard's host as a prefix"},
	{"http://sub.example.org", false, "the wildcard's scheme is https"},
	{"https://evil.com\\.example.org", false, "a backslash to fake the wildcard's suffix"},
	{"javascript://x.wild.example/%0aalert(1)", false, "a host-only wildcard never trusts a script URL"},
	{"myapp://x.wild.example", false, "a host-only wildcard is for http(s) only"},
	{"http://192.168.evil.com", false, "an address-range wildcard admits IPv4 hosts only"},
	{"myapp://other", false, "the app scheme with another authority"},
	{"myapp://callback@evil", false, "the app scheme with user-info"},
	{"otherapp://callback", false, "another scheme"},
	{"evil.com", false, "no scheme, not a path"},
	{"", false, "empty"},
}

// TestRedirectTargetsAdversarial runs the table against the matcher (and checks that no path
// passes as an Origin), then the whole table again through HTTP: in each of the four callback
// fields of a body (a refused URL is 403 with the field's code, an allowed callbackURL reaches the
// email check), in a POST's query, and in every query target the email links read.
func TestRedirectTargetsAdversarial(t *testing.T) {
	t.Parallel()
	var cfg config
	originConfig(&cfg)
	s := newServer(cfg, nil)
	r := httptest.NewRequest(http.MethodGet, "/api/auth/ok", nil)
	for _, tt := range redirectTargets {
		if got := s.isTrustedURL(r, tt.url, true); got != tt.ok {
			t.Errorf("isTrustedURL(%q) = %v, want %v: %s", tt.url, got, tt.ok, tt.why)
		}
	}
	// A path is never an Origin.
	for _, u := range []string{"/dashboard", "/", "null"} {
		if s.isTrustedURL(r, u, false) {
			t.Errorf("%q trusted as an origin", u)
		}
	}
	ts := newTestServer(t, originConfig)
	requests := 0
	for _, tt := range redirectTargets {
		if tt.url == "" {
			continue // an empty callbackURL is no callbackURL
		}
		c := ts.client(t)
		c.header.Set("Origin", appOrigin)
		for field, refusal := range urlFieldErrors {
			// An invalid email is refused after the URL checks, before any password hashing.
			resp := c.post("/api/auth/sign-in/email", map[string]any{"email": "nobody", "password": "password123", field: tt.url})
			requests++
			switch {
			case !tt.ok:
				resp.wantError(t, 403, refusal.Code)
			case field == "callbackURL":
				resp.wantError(t, 400, "INVALID_EMAIL")
			case resp.Status == 403: // sign-in takes no other URL field: schema validation refuses it
				t.Errorf("%s %q: %d %s, want the target allowed", field, tt.url, resp.Status, resp.Body)
			}
		}
		// The links in emails carry their targets in the query; each checks every one it reads.
		q := url.QueryEscape(tt.url)
		for _, link := range []string{
			"/api/auth/sign-out?callbackURL=" + q,
			"/api/auth/verify-email?token=x&callbackURL=" + q,
			"/api/auth/reset-password/x?callbackURL=" + q,
			"/api/auth/delete-user/callback?token=x&callbackURL=" + q,
			"/api/auth/magic-link/verify?token=x&callbackURL=" + q,
			"/api/auth/magic-link/verify?token=x&errorCallbackURL=" + q,
			"/api/auth/magic-link/verify?token=x&newUserCallbackURL=" + q,
		} {
			method := http.MethodGet
			if strings.HasPrefix(link, "/api/auth/sign-out") {
				method = http.MethodPost
			}
			resp := c.do(method, link, nil)
			requests++
			if tt.ok {
				if resp.Status == 403 {
					t.Errorf("%s %s: %d %s, want the target allowed", method, link, resp.Status, resp.Body)
				}
			} else {
				resp.wantError(t, 403, "INVALID_CALLBACK_URL")
			}
		}
	}
	recordFigures(t, "redirects", map[string]any{"targets": len(redirectTargets), "requests": requests})
}

// TestURLFieldsAreChecked ensures every callback-like body field, and every query callbackURL of a
// POST, is checked with its own upstream error, a non-string being 400 without a code.
func TestURLFieldsAreChecked(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	tests := []struct {
		name   string
		path   string
		body   map[string]any
		status int
		code   string
	}{
		{"body callbackURL", "/api/auth/sign-in/email", map[string]any{"email": "a@b.co", "password": "x", "callbackURL": "https://evil.com"}, 403, "INVALID_CALLBACK_URL"},
		{"query callbackURL", "/api/auth/sign-in/email?callbackURL=https://evil.com", map[string]any{"email": "a@b.co", "password": "x"}, 403, "INVALID_CALLBACK_URL"},
		{"second query callbackURL", "/api/auth/sign-in/email?callbackURL=/ok&callbackURL=https://evil.com", map[string]any{"email": "a@b.co", "password": "x"}, 403, "INVALID_CALLBACK_URL"},
		{"query callbackURL on a body-less endpoint", "/api/auth/sign-out?callbackURL=//evil.com", nil, 403, "INVALID_CALLBACK_URL"},
		{"redirectTo", "/api/auth/sign-out", map[string]any{"redirectTo": "https://evil.com"}, 403, "INVALID_REDIRECT_URL"},
		{"errorCallbackURL", "/api/auth/sign-out", map[string]any{"errorCallbackURL": "https://evil.com"}, 403, "INVALID_ERROR_CALLBACK_URL"},
		{"newUserCallbackURL", "/api/auth/sign-out", map[string]any{"newUserCallbackURL": "https://evil.com"}, 403, "INVALID_NEW_USER_CALLBACK_URL"},
		{"URL check before schema validation", "/api/auth/sign-in/email", map[string]any{"email": 5, "callbackURL": "https://evil.com"}, 403, "INVALID_CALLBACK_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.client(t).post(tt.path, tt.body).wantError(t, tt.status, tt.code)
		})
	}
	resp := ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "a@b.co", "password": "x", "callbackURL": 5}).wantStatus(t, 400)
	if string(resp.Body) != `{"message":"Invalid callbackURL: expected a string"}` {
		t.Fatalf("body %s", resp.Body)
	}
	// A GET's query is the endpoint's own business (verify-email and friends check it themselves).
	ts.client(t).get("/api/auth/get-session?callbackURL=https://evil.com").wantStatus(t, http.StatusOK)
}

// TestOriginCheckOnCookieRequests ensures a state-changing request that carries cookies needs a
// trusted Origin (or Referer), as upstream's CSRF check does, and changes nothing when refused.
func TestOriginCheckOnCookieRequests(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) {
		c.TrustedOrigins = []string{"http://localhost:3000", "https://*.example.org"}
	})
	c := ts.client(t)
	c.signUp("csrf@example.com", "password123", "Before")
	tests := []struct {
		name   string
		header []string
		status int
		code   string
	}{
		{"no Origin or Referer", []string{"Origin", ""}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"Origin null", []string{"Origin", "null"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"Origin null, cross-site", []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"foreign Origin", []string{"Origin", "https://evil.com"}, 403, "INVALID_ORIGIN"},
		{"look-alike Origin", []string{"Origin", ts.URL + ".evil.com"}, 403, "INVALID_ORIGIN"},
		{"Origin with user-info", []string{"Origin", "http://x@" + strings.TrimPrefix(ts.URL, "http://")}, 403, "INVALID_ORIGIN"},
		{"foreign Referer", []string{"Origin", "", "Referer", "https://evil.com/" + ts.URL}, 403, "INVALID_ORIGIN"},
		{"foreign Origin beats a trusted Referer", []string{"Origin", "https://evil.com", "Referer", ts.URL + "/page"}, 403, "INVALID_ORIGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.post("/api/auth/update-user", map[string]any{"name": "Changed"}, tt.header...).wantError(t, tt.status, tt.code)
		})
	}
	var got authSession
	c.get("/api/auth/get-session", "Origin", "https://evil.com").decode(t, &got)
	if got.User.Name != "Before" {
		t.Fatalf("a refused request changed the name to %q", got.User.Name)
	}
	for _, header := range [][]string{
		{"Origin", ts.URL},
		{"Origin", "", "Referer", ts.URL + "/settings?x=1"},
		{"Origin", "null", "Sec-Fetch-Site", "same-origin"},
		{"Origin", "http://localhost:3000"},
		{"Origin", "https://team.example.org"},
	} {
		c.post("/api/auth/update-user", map[string]any{"name": "Changed"}, header...).wantStatus(t, http.StatusOK)
	}
	// No cookie, no check: the request cannot act as anyone.
	ts.client(t).post("/api/auth/sign-out", nil, "Origin", "https://evil.com").wantStatus(t, http.StatusOK)
	// An empty Cookie header is still a Cookie header, as upstream's headers.has("cookie") sees it.
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/auth/sign-out", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header["Cookie"] = []string{""}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("empty Cookie header without Origin: status %d, want 403", res.StatusCode)
	}
}

// TestOriginCheckRunsInUpstreamOrder ensures a request wrong in several ways gets upstream's
// answer: body parsing first, then the origin, then the URL fields, then the schema.
func TestOriginCheckRunsInUpstreamOrder(t *testing.T) {
	t.Parallel()
	_, c := newSignedInServer(t, "order@example.com", "Order")
	evil := []string{"Origin", "https://evil.com"}
	c.post("/api/auth/change-password", "{bad", evil...).wantError(t, 400, "BAD_REQUEST")
	c.post("/api/auth/change-password", "{}", append(evil, "Content-Type", "text/plain")...).wantError(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	c.post("/api/auth/change-password", map[string]any{"newPassword": 5}, evil...).wantError(t, 403, "INVALID_ORIGIN")
	c.post("/api/auth/change-password", map[string]any{"newPassword": 5, "callbackURL": "https://evil.com"}, evil...).wantError(t, 403, "INVALID_ORIGIN")
	c.post("/api/auth/update-user?callbackURL=https://evil.com", []any{}).wantError(t, 403, "INVALID_CALLBACK_URL")
	c.post("/api/auth/update-user", map[string]any{"name": 5, "callbackURL": "https://evil.com"}).wantError(t, 403, "INVALID_CALLBACK_URL")
	c.post("/api/auth/update-user", map[string]any{"name": 5}).wantError(t, 400, "VALIDATION_ERROR")
}

// TestLoginCSRF ensures sign-in and sign-up without cookies refuse a cross-site form navigation
// and a foreign Origin or Referer, and let through same-site and header-less (server) calls.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("login@example.com", "password123", "Login")
	body := map[string]any{"email": "login@example.com", "password": "password123"}
	refused := []struct {
		name   string
		header []string
		code   string
	}{
		{"cross-site navigation", []string{"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"cross-site navigation with a trusted Origin", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"fetch metadata without Origin", []string{"Origin", "", "Sec-Fetch-Site", "same-origin"}, "MISSING_OR_NULL_ORIGIN"},
		{"cross-site fetch from a foreign Origin", []string{"Origin", "https://evil.com", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "cors"}, "INVALID_ORIGIN"},
		{"foreign Origin", []string{"Origin", "https://evil.com"}, "INVALID_ORIGIN"},
		{"foreign Referer", []string{"Origin", "", "Referer", "https://evil.com/login"}, "INVALID_ORIGIN"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.tableCounts(t)
			for _, path := range []string{"/api/auth/sign-in/email", "/api/auth/sign-up/email"} {
				b := body
				if strings.HasSuffix(path, "sign-up/email") {
					b = map[string]any{"email": "new@example.com", "password": "password123", "name": "New"}
				}
				resp := ts.client(t).post(path, b, tt.header...)
				resp.wantError(t, 403, tt.code)
				if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
					t.Fatalf("%s set cookies %q", path, got)
				}
			}
			if after := ts.tableCounts(t); !equalCounts(before, after) {
				t.Fatalf("rows changed: %v → %v", before, after)
			}
		})
	}
	allowed := [][]string{
		{"Origin", ""}, // a server-side call: no browser headers at all
		{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"},
		{"Origin", "", "Referer", ts.URL + "/login"},
		{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"},
	}
	for _, header := range allowed {
		ts.client(t).post("/api/auth/sign-in/email", body, header...).wantStatus(t, http.StatusOK)
	}
	// Upstream checks the body before the CSRF rule: a malformed body or a foreign callbackURL
	// is answered as such.
	nav := []string{"Origin", "", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}
	ts.client(t).post("/api/auth/sign-in/email", "{bad", nav...).wantError(t, 400, "BAD_REQUEST")
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "a@b.co", "password": "x", "callbackURL": "https://evil.com"}, nav...).
		wantError(t, 403, "INVALID_CALLBACK_URL")
}

// TestCORSAnswersTrustedOriginsOnly ensures credentialed CORS headers go to a trusted other origin
// only, echoed exactly, and that an untrusted preflight finds no route, as upstream has none.
func TestCORSAnswersTrustedOriginsOnly(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.TrustedOrigins = []string{"http://localhost:3000", "https://*.example.org"} })
	c := ts.client(t)

	resp := c.get("/api/auth/ok", "Origin", "http://localhost:3000").wantStatus(t, http.StatusOK)
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("headers %v", resp.Header)
	}
	resp = c.do(http.MethodOptions, "/api/auth/sign-in/email", nil, "Origin", "https://team.example.org", "Access-Control-Request-Method", "POST")
	resp.wantStatus(t, http.StatusNoContent)
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://team.example.org" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST, OPTIONS" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Content-Type, Authorization" {
		t.Fatalf("preflight headers %v", resp.Header)
	}
	for _, origin := range []string{"https://evil.com", "null", "http://localhost:3000/", "http://localhost:3000/x", "HTTP://LOCALHOST:3000", "http://localhost:3000.evil.com", ts.URL} {
		resp := c.get("/api/auth/ok", "Origin", origin)
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("Origin %q got Access-Control-Allow-Origin %q", origin, got)
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("Origin %q: no Vary: Origin", origin)
		}
		c.do(http.MethodOptions, "/api/auth/sign-in/email", nil, "Origin", origin, "Access-Control-Request-Method", "POST").wantStatus(t, http.StatusNotFound)
	}
}

// TestVaryOriginOnAnswersACacheMayStore: an answer to a request with an Origin carries Vary:
// Origin, whether or not the origin got CORS headers, unless it is no-store (get-session's), which
// no cache keeps and so needs no Vary; errors and preflights carry it too.
func TestVaryOriginOnAnswersACacheMayStore(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(c *config) { c.TrustedOrigins = []string{"http://localhost:3000"} })
	c := ts.client(t)
	c.signUp("vary@example.com", "password123", "Vary")
	cases := []struct {
		name, method, path, origin string
		status                     int
		vary                       bool
	}{
		{"ok from a trusted origin", http.MethodGet, "/api/auth/ok", "http://localhost:3000", 200, true},
		{"ok from our own origin", http.MethodGet, "/api/auth/ok", ts.URL, 200, true},
		{"ok without an Origin", http.MethodGet, "/api/auth/ok", "", 200, false},
		{"get-session, no-store", http.MethodGet, "/api/auth/get-session", ts.URL, 200, false},
		{"get-session from a trusted origin, no-store", http.MethodGet, "/api/auth/get-session", "http://localhost:3000", 200, false},
		{"an unknown path", http.MethodGet, "/api/auth/nothing-here", ts.URL, 404, true},
		{"a preflight", http.MethodOptions, "/api/auth/sign-in/email", "http://localhost:3000", 204, true},
	}
	for _, tc := range cases {
		headers := []string{"Origin", tc.origin} // "": none (the test client sends ours otherwise)
		if tc.method == http.MethodOptions {
			headers = append(headers, "Access-Control-Request-Method", "POST")
		}
		resp := c.do(tc.method, tc.path, nil, headers...).wantStatus(t, tc.status)
		vary := strings.Join(resp.Header.Values("Vary"), ",")
		if got := strings.Contains(vary, "Origin"); got != tc.vary {
			t.Errorf("%s: Vary %q, want Origin in it: %v", tc.name, vary, tc.vary)
		}
		if noStore := resp.Header.Get("Cache-Control") == "no-store"; !tc.vary && tc.origin != "" && !noStore {
			t.Errorf("%s: no Vary: Origin on an answer a cache may store (Cache-Control %q)", tc.name, resp.Header.Get("Cache-Control"))
		}
	}
}

// TestEveryPostRouteChecksOrigin walks every POST route in routes.go, features of other files
// included: with a session cookie and a foreign Origin, each is refused before its handler runs,
// and nothing is written. The SAML ACS and SLO are the exception, as upstream's
// SAML_SKIP_ORIGIN_CHECK_PATHS: the IdP posts to them cross-site, and the IdP's signature is their
// proof (samlacs_test.go, samlslo_test.go); their handlers answer, here refusing the empty body.
func TestEveryPostRouteChecksOrigin(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "walk@example.com", "Walk")
	before := ts.tableCounts(t)
	for _, r := range routeTable(t) {
		switch {
		case r.method != http.MethodPost:
		case strings.HasPrefix(r.path(), "/api/auth/sso/saml2/sp/"):
			if resp := c.post(r.path(), map[string]any{}, "Origin", "https://evil.com"); resp.Status == 403 || resp.Status < 400 {
				t.Errorf("%s from a foreign origin: %d, want the handler's refusal of the empty body", r.path(), resp.Status)
			}
		default:
			c.post(r.path(), map[string]any{}, "Origin", "https://evil.com").wantError(t, 403, "INVALID_ORIGIN")
		}
	}
	if after := ts.tableCounts(t); !equalCounts(before, after) {
		t.Fatalf("rows changed: before %v, after %v", before, after)
	}
}
