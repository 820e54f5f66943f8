package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The session_data cookie cache against upstream: the fixtures in testdata/cookiecache/ are
// Set-Cookie lines written by the reference server (see their "comment"), which our reader must
// accept; what our writer emits is checked with upstream's verification done in Go from the exact
// bytes. specialName is in every fixture and test: HTML characters, a quote, non-ASCII, U+2028,
// U+2029, a tab, a control character, an emoji and a backslash, each of which JSON encoders
// disagree on.
const specialName = "<x> & \"q\" é\u2028\u2029\t\u0007 😀 /\\"

type cacheFixture struct {
	Secret     string
	SetCookie  []string
	GetSession json.RawMessage
}

func loadCacheFixture(t testing.TB, name string) cacheFixture {
	t.Helper()
	raw, err := os.ReadFile("testdata/cookiecache/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var f cacheFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// cookieHeader turns Set-Cookie lines into the Cookie header a browser would send back.
func cookieHeader(lines []string) string {
	var pairs []string
	for _, line := range lines {
		pair, _, _ := strings.Cut(line, ";")
		if !strings.HasSuffix(pair, "=") {
			pairs = append(pairs, pair)
		}
	}
	return strings.Join(pairs, "; ")
}

// cacheValue joins the session_data cookie (or its chunks, in order) out of Set-Cookie lines.
func cacheValue(t testing.TB, lines []string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", cookieHeader(lines))
	v, ok := newServer(config{}, nil).chunkedCookie(r, cookieSessionData)
	if !ok {
		t.Fatalf("no session_data in %q", lines)
	}
	return v
}

// compactCache is the decoded cookie value, its payload P kept as the exact bytes signed.
type compactCache struct {
	Session   json.RawMessage `json:"session"`
	ExpiresAt int64           `json:"expiresAt"`
	Signature string          `json:"signature"`
}

func decodeCompactCache(t testing.TB, value string) (compactCache, []byte) {
	t.Helper()
	if strings.ContainsAny(value, "=+/") {
		t.Fatalf("cookie cache %q is not unpadded base64url", value[:min(len(value), 40)])
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		t.Fatal(err)
	}
	var c compactCache
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c, raw
}

// upstreamVerifies is upstream's check of a compact cache, done from the bytes: the signature is
// HMAC-SHA256(secret, JSON.stringify({...P, expiresAt})). JSON.stringify(JSON.parse(P)) is P itself
// exactly when P is in JSON.stringify's canonical form, which wantCanonicalJS checks separately, so
// the signed text is P with ,"expiresAt":E spliced in before its closing brace.
func upstreamVerifies(secret string, c compactCache) bool {
	p := bytes.TrimSuffix(c.Session, []byte("}"))
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, `%s,"expiresAt":%d}`, p, c.ExpiresAt)
	return hmac.Equal([]byte(base64.RawURLEncoding.EncodeToString(mac.Sum(nil))), []byte(c.Signature))
}

// wantCanonicalJS fails unless b is what JS JSON.stringify writes for the value b parses to: no
// whitespace, integers only (all this payload holds), and strings escaped exactly as
// QuoteJSONString does (ECMA-262, QuoteJSONString): only ", \ and the C0 controls, with the short forms
// \b \f \n \r \t, other controls as lowercase \u00XX, everything else (non-ASCII, U+2028, <, >, &, /)
// raw UTF-8.
func wantCanonicalJS(t testing.TB, b []byte) {
	t.Helper()
	fail := func(i int, why string) {
		t.Helper()
		t.Fatalf("not JSON.stringify output at byte %d (%s): …%s…", i, why, b[max(0, i-20):min(len(b), i+20)])
	}
	number := regexp.MustCompile(`^-?(0|[1-9][0-9]*)`)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			i++
			for {
				if i >= len(b) {
					fail(i, "unterminated string")
				}
				c := b[i]
				if c == '"' {
					i++
					break
				}
				if c < 0x20 {
					fail(i, "raw control character")
				}
				if c == '\\' {
					if i+1 >= len(b) {
						fail(i, "dangling escape")
					}
					switch e := b[i+1]; e {
					case '"', '\\', 'b', 'f', 'n', 'r', 't':
						i += 2
					case 'u':
						hex := string(b[i+2 : min(len(b), i+6)])
						v, err := strconv.ParseUint(hex, 16, 16)
						if err != nil || len(hex) != 4 || hex != strings.ToLower(hex) || v >= 0x20 || strings.ContainsRune("\b\f\n\r\t", rune(v)) {
							fail(i, "unnecessary or uppercase \\u escape")
						}
						i += 6
					default:
						fail(i, "escape JSON.stringify never writes")
					}
					continue
				}
				r, size := utf8.DecodeRune(b[i:])
				if r == utf8.RuneError && size <= 1 {
					fail(i, "invalid UTF-8")
				}
				i += size
			}
		case strings.IndexByte("{}[]:,", c) >= 0:
			i++
		case bytes.HasPrefix(b[i:], []byte("true")):
			i += 4
		case bytes.HasPrefix(b[i:], []byte("false")):
			i += 5
		case bytes.HasPrefix(b[i:], []byte("null")):
			i += 4
		default:
			m := number.Find(b[i:])
			if m == nil {
				fail(i, "unexpected byte")
			}
			i += len(m)
		}
	}
	if !json.Valid(b) {
		t.Fatalf("invalid JSON: %s", b)
	}
}

// cacheServer starts a server with the cookie cache on and a hand-moved clock.
func cacheServer(t *testing.T, clock *testClock, secret string) *testServer {
	t.Helper()
	pool, _ := newTestDB(t)
	return startTestServer(t, pool, func(s *server) { s.now = clock.now }, func(c *config) {
		c.CookieCacheMaxAge = 300
		c.Secret = secret
	})
}

// payloadTime is the payload's updatedAt: when the reference wrote the cookie.
func payloadTime(t testing.TB, value string) time.Time {
	t.Helper()
	c, _ := decodeCompactCache(t, value)
	var p struct{ UpdatedAt int64 }
	if err := json.Unmarshal(c.Session, &p); err != nil {
		t.Fatal(err)
	}
	return time.UnixMilli(p.UpdatedAt).UTC()
}

// wantSameJSONFields fails unless every field of want has the same value in got (got may have
// more: activeTeamId, which the reference's plugins do not add).
func wantSameJSONFields(t testing.TB, got, want []byte) {
	t.Helper()
	var g, w map[string]map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	for part, fields := range w {
		for k, v := range fields {
			if fmt.Sprint(g[part][k]) != fmt.Sprint(v) {
				t.Errorf("%s.%s = %v, want %v", part, k, g[part][k], v)
			}
		}
	}
}

// TestCookieCacheReadsReferenceCookie ensures get-session answers from a cookie cache the
// reference server wrote (plain, dont-remember and chunked), without the database: the session is
// not in ours at all. A stale, forged or foreign cache falls back to Postgres.
func TestCookieCacheReadsReferenceCookie(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"reference-special-name", "reference-dont-remember", "reference-chunked"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := loadCacheFixture(t, name)
			value := cacheValue(t, f.SetCookie)
			clock := newTestClock()
			clock.set(payloadTime(t, value).Add(30 * time.Second))
			ts := cacheServer(t, clock, f.Secret)
			header := cookieHeader(f.SetCookie)

			resp := ts.client(t).get("/api/auth/get-session", "Cookie", header).wantStatus(t, http.StatusOK)
			wantSameJSONFields(t, resp.Body, f.GetSession)
			if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Fatalf("a cache hit wrote cookies %q", got)
			}
			var body authSession
			resp.decode(t, &body)
			if !strings.HasPrefix(body.User.Name, specialName) {
				t.Fatalf("name %q", body.User.Name)
			}

			// Each of these must not be answered from the cache; the database has no such session.
			resp = ts.client(t).get("/api/auth/get-session?disableCookieCache=true", "Cookie", header)
			if string(resp.Body) != "null" {
				t.Fatalf("disableCookieCache: %s", resp.Body)
			}
			ts.client(t).post("/api/auth/verify-password", map[string]any{"password": "password123"}, "Cookie", header).wantError(t, 401, "UNAUTHORIZED")

			forged := strings.Replace(header, "session_data", "session_data_x", -1) + "; " + sessionDataCookie + "=" + flipLastChar(value)
			if !strings.Contains(header, sessionDataCookie+"=") {
				forged = header[:strings.LastIndex(header, "=")+1] + flipLastChar(header[strings.LastIndex(header, "=")+1:])
			}
			for what, h := range map[string]string{
				"forged signature":  forged,
				"another token":     sessionCookie + "=" + encodeURIComponent(ts.sign(strings.Repeat("z", 32))) + "; " + strings.SplitN(header, "; ", 2)[1],
				"no session_token":  strings.SplitN(header, "; ", 2)[1],
				"unsigned token":    sessionCookie + "=" + body.Session.Token + "; " + strings.SplitN(header, "; ", 2)[1],
				"undecodable cache": sessionCookie + "=" + strings.TrimPrefix(strings.SplitN(header, "; ", 2)[0], sessionCookie+"=") + "; " + sessionDataCookie + "=%%%",
			} {
				if got := ts.client(t).get("/api/auth/get-session", "Cookie", h).Body; string(got) != "null" {
					t.Fatalf("%s answered from the cache: %s", what, got)
				}
			}

			clock.set(payloadTime(t, value).Add(301 * time.Second))
			if got := ts.client(t).get("/api/auth/get-session", "Cookie", header).Body; string(got) != "null" {
				t.Fatalf("expired cache answered: %s", got)
			}
		})
	}
}

func flipLastChar(s string) string {
	c := byte('A')
	if s[len(s)-1] == c {
		c = 'B'
	}
	return s[:len(s)-1] + string(c)
}

// TestCookieCacheReferenceFixturesAreCanonical checks the checker: the reference's own payloads
// pass wantCanonicalJS and upstreamVerifies, so both agree with the real JSON.stringify.
func TestCookieCacheReferenceFixturesAreCanonical(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"reference-special-name", "reference-dont-remember", "reference-chunked"} {
		f := loadCacheFixture(t, name)
		c, raw := decodeCompactCache(t, cacheValue(t, f.SetCookie))
		wantCanonicalJS(t, raw)
		if !upstreamVerifies(f.Secret, c) {
			t.Errorf("%s: upstream's own signature does not verify with upstreamVerifies", name)
		}
		c.ExpiresAt++
		if upstreamVerifies(f.Secret, c) {
			t.Errorf("%s: a changed expiresAt still verifies", name)
		}
	}
}

// TestCookieCacheWriterVerifiesWithUpstreamAlgorithm ensures the session_data our server writes
// is upstream's compact format byte for byte in every part that is checked: unpadded base64url of
// {"session":P,"expiresAt":E,"signature":S}, P canonical JSON.stringify output with upstream's
// top-level keys, E five minutes ahead (one minute for a browser-session login), S verifying as
// upstream verifies it, and a cookie upstream's attributes.
func TestCookieCacheWriterVerifiesWithUpstreamAlgorithm(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := cacheServer(t, clock, testSecret)
	c := ts.client(t)
	resp := c.post("/api/auth/sign-up/email", map[string]any{"email": "writer@example.com", "password": "password123", "name": specialName})
	resp.wantStatus(t, http.StatusOK)
	line := resp.setCookie(sessionDataCookie)
	if !regexp.MustCompile(`^better-auth\.session_data=[A-Za-z0-9_-]+; Max-Age=300; Path=/; HttpOnly; SameSite=Lax$`).MatchString(line) {
		t.Fatalf("session_data line %q", line)
	}
	cache, raw := decodeCompactCache(t, cacheValue(t, resp.Header.Values("Set-Cookie")))
	wantCanonicalJS(t, raw)
	if !bytes.HasPrefix(raw, []byte(`{"session":{"session":`)) || !regexp.MustCompile(`,"expiresAt":\d+,"signature":"[A-Za-z0-9_-]{43}"}$`).Match(raw) {
		t.Fatalf("outer shape %s", raw)
	}
	if !upstreamVerifies(testSecret, cache) {
		t.Fatalf("upstream's check rejects our signature over %s", cache.Session)
	}
	if got, want := cache.ExpiresAt, clock.now().Add(300*time.Second).UnixMilli(); got != want {
		t.Fatalf("expiresAt = %d, want %d", got, want)
	}
	var p struct {
		Session   json.RawMessage `json:"session"`
		User      json.RawMessage `json:"user"`
		UpdatedAt int64           `json:"updatedAt"`
		Version   string          `json:"version"`
	}
	if err := json.Unmarshal(cache.Session, &p); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\{"session":\{.*\},"user":\{.*\},"updatedAt":\d+,"version":"1"\}$`).Match(cache.Session) ||
		p.UpdatedAt != clock.now().UnixMilli() || p.Version != "1" {
		t.Fatalf("payload %s", cache.Session)
	}
	// The cached session and user are the database's.
	var fromCache, fromDB authSession
	json.Unmarshal(p.Session, &fromCache.Session)
	json.Unmarshal(p.User, &fromCache.User)
	c.get("/api/auth/get-session?disableCookieCache=1").decode(t, &fromDB)
	cj, _ := json.Marshal(fromCache)
	dj, _ := json.Marshal(fromDB)
	if !bytes.Equal(cj, dj) || fromCache.User.Name != specialName {
		t.Fatalf("cache %+v, database %+v", fromCache, fromDB)
	}

	// A browser-session login: no Max-Age, and one minute of cache.
	resp = ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "writer@example.com", "password": "password123", "rememberMe": false})
	line = resp.setCookie(sessionDataCookie)
	if !regexp.MustCompile(`^better-auth\.session_data=[A-Za-z0-9_-]+; Path=/; HttpOnly; SameSite=Lax$`).MatchString(line) {
		t.Fatalf("dont-remember session_data line %q", line)
	}
	cache, _ = decodeCompactCache(t, cacheValue(t, resp.Header.Values("Set-Cookie")))
	if got, want := cache.ExpiresAt, clock.now().Add(time.Minute).UnixMilli(); got != want || !upstreamVerifies(testSecret, cache) {
		t.Fatalf("dont-remember expiresAt = %d, want %d", got, want)
	}
}

// TestCookieCacheRoundTrip ensures our own cache answers get-session without Postgres, is kept in
// step by update-user, is ignored by sensitive endpoints, and that without a session_token the
// answer is null at once.
func TestCookieCacheRoundTrip(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	ts := cacheServer(t, clock, testSecret)
	c := ts.client(t)
	c.signUp("round@example.com", "password123", "Round")
	c.post("/api/auth/update-user", map[string]any{"name": specialName}).wantStatus(t, http.StatusOK)
	ts.exec(t, `DELETE FROM session`)
	var got authSession
	c.get("/api/auth/get-session").decode(t, &got)
	if got.User.Name != specialName {
		t.Fatalf("cached name %q", got.User.Name)
	}
	c.post("/api/auth/verify-password", map[string]any{"password": "password123"}).wantError(t, 401, "UNAUTHORIZED")

	resp := ts.client(t).get("/api/auth/get-session", "Cookie", sessionDataCookie+"="+c.cookies[sessionDataCookie])
	if string(resp.Body) != "null" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cache without a session_token: %s %q", resp.Body, resp.Header.Values("Set-Cookie"))
	}
}

// TestCookieCacheChunksLikeUpstream ensures a large cache is split exactly where upstream splits
// it (same names, values and attributes, each line within 4050 bytes), that stale chunks are
// expired, and that our reader joins the chunks.
func TestCookieCacheChunksLikeUpstream(t *testing.T) {
	t.Parallel()
	f := loadCacheFixture(t, "reference-chunked")
	value := cacheValue(t, f.SetCookie)
	s := newServer(config{Secret: f.Secret, CookieCacheMaxAge: 300}, nil)
	var want []string
	for _, line := range f.SetCookie {
		if strings.HasPrefix(line, sessionDataCookie) {
			want = append(want, line)
			if len(line) > maxCookieSize {
				t.Fatalf("reference line of %d bytes", len(line))
			}
		}
	}
	w := httptest.NewRecorder()
	s.setChunkedCookie(w, httptest.NewRequest(http.MethodGet, "/", nil), cookieSessionData, value, cookieOpts{maxAge: 300})
	if got := w.Header().Values("Set-Cookie"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("chunks differ from upstream's:\n got %d lines\nwant %d lines", len(got), len(want))
	}

	// The request held five chunks and an unchunked cache: the two extra chunks and the plain
	// cookie are expired, the rest rewritten.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Cookie", "better-auth.session_data=old; better-auth.session_data.0=a; better-auth.session_data.1=b; better-auth.session_data.2=c; better-auth.session_data.3=d; better-auth.session_data.4=e")
	w = httptest.NewRecorder()
	s.setChunkedCookie(w, r, cookieSessionData, value, cookieOpts{maxAge: 300})
	got := w.Header().Values("Set-Cookie")
	expired := 0
	for _, line := range got {
		if strings.HasSuffix(line, "=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax") {
			expired++
		}
	}
	if len(got) != 6 || expired != 3 || !strings.Contains(strings.Join(got, "\n"), "better-auth.session_data.4=; Max-Age=0") {
		t.Fatalf("Set-Cookie %q", got)
	}

	// Too large even for 100 chunks: no cache at all, the old one expired.
	w = httptest.NewRecorder()
	s.setChunkedCookie(w, r, cookieSessionData, strings.Repeat("a", 100*maxCookieSize), cookieOpts{maxAge: 300})
	for _, line := range w.Header().Values("Set-Cookie") {
		if !strings.Contains(line, "=; Max-Age=0") {
			t.Fatalf("oversized cache written: %.60s", line)
		}
	}
}
