package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// Fuzz targets for every parser of untrusted input. Each asserts that a failed parse returns
// nothing half-filled and that a successful one means what it says. CI runs each briefly
// (scripts/test.sh); crashers found are kept under testdata/fuzz/.

func fuzzServer() *server {
	s := newServer(config{Secret: testSecret, BaseURL: "https://app.example.com", TrustedOrigins: []string{"https://*.example.org", "myapp://callback"}}, nil)
	s.now = func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	return s
}

// FuzzSignedCookie ensures verifySigned accepts exactly what sign produces.
func FuzzSignedCookie(f *testing.F) {
	s := fuzzServer()
	f.Add(s.sign("AVHiz7pXj3eQ9lEo2mNw0kRbYtUq8sCd"))
	f.Add(s.sign("true"))
	// The same signature with a padding bit set in its last character: base64 that only a lax
	// decoder reads as the same bytes.
	signed := s.sign("true")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, signed[len(signed)-2])
	f.Add(signed[:len(signed)-2] + string(alphabet[last|1]) + "=")
	f.Add("token.abc=")
	f.Add(".")
	f.Add("x." + strings.Repeat("A", 43) + "=")
	f.Fuzz(func(t *testing.T, signed string) {
		value, ok := s.verifySigned(signed)
		if !ok {
			if value != "" {
				t.Fatalf("rejected %q but returned %q", signed, value)
			}
			return
		}
		if got := s.sign(value); got != signed {
			t.Fatalf("accepted %q, which is not sign(%q) = %q", signed, value, got)
		}
	})
}

// FuzzCookieCache ensures a session_data cookie is used only when it is ours, for this token,
// and unexpired; anything else is rejected without a panic. The fuzzer writes the signed payload,
// not the cookie: a mutated signature or base64 text only ever fails the first check, and the
// target signs what the fuzzer wrote so that every mutation reaches the payload's parsing. The
// inputs stay short, which keeps the engine's minimization of each new input quick (a whole
// encoded cookie is ~800 bytes, and minimizing those stalled the run for minutes).
func FuzzCookieCache(f *testing.F) {
	s := fuzzServer()
	s.cfg.CookieCacheMaxAge = 300
	expires := jsTime(s.now().Add(time.Hour))
	exp, _ := json.Marshal(expires)
	f.Add(`{"session":{"token":"tok","expiresAt":`+string(exp)+`},"user":{"id":"u1"},"version":"1"}`, int64(60000), "tok", true)
	f.Add(`{"session":{"token":"tok","expiresAt":`+string(exp)+`},"user":{"id":"u1"}}`, int64(-1), "tok", true)
	f.Add(`{"session":{"token":"tok"},"user":null}`, int64(60000), "other", true)
	f.Add(`{"session":1}`, int64(0), "tok", true)
	f.Add("e30", int64(0), "tok", false)
	f.Add("", int64(0), "", false)
	f.Fuzz(func(t *testing.T, payload string, expiresIn int64, token string, signed bool) {
		value := payload
		if signed && len(payload) > 0 {
			expiresAt := strconv.FormatInt(s.now().UnixMilli()+expiresIn, 10)
			outer := `{"session":` + payload + `,"expiresAt":` + expiresAt + `,"signature":"` + s.cacheSignature([]byte(payload), expiresAt) + `"}`
			value = base64.RawURLEncoding.EncodeToString([]byte(outer))
		}
		r := &http.Request{Header: http.Header{"Cookie": {s.cookieName(cookieSessionData) + "=" + value}}}
		cached, _ := s.readCookieCache(r, token)
		if cached == nil {
			return
		}
		if cached.Session.Token != token {
			t.Fatalf("cache for token %q answered token %q", cached.Session.Token, token)
		}
		if cached.Session.ExpiresAt.Time().Before(s.now()) || expiresIn < 0 {
			t.Fatalf("expired cached session accepted")
		}
	})
}

type fuzzBody struct {
	Email       string           `json:"email" required:"true"`
	Password    string           `json:"password" required:"true"`
	RememberMe  *bool            `json:"rememberMe"`
	Image       optional[string] `json:"image" nullable:"true"`
	CallbackURL string           `json:"callbackURL"`
}

// FuzzDecode ensures the body decoder answers every input with either a full value or a 4xx
// apiError, and never leaves a partly filled destination behind.
func FuzzDecode(f *testing.F) {
	s := fuzzServer()
	f.Add(`{"email":"a@b.co","password":"password123"}`, "application/json")
	f.Add(`{"email":5}`, "application/json")
	f.Add(`{"email":"a@b.co","password":"x","callbackURL":"https://evil.com"}`, "application/json")
	f.Add(`email=a%40b.co&password=x&rememberMe=false`, "application/x-www-form-urlencoded")
	f.Add(`[1,2]`, "application/json")
	f.Add(`{"email":"a","password":"b"} trailing`, "application/json")
	f.Add(`{"image":null,"email":"\u0000","password":""}`, "text/plain")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		r := httptest.NewRequest(http.MethodPost, "/api/auth/sign-in/email", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var dst fuzzBody
		err := s.decode(r, &dst, formAllowed)
		if err == nil {
			if strings.ContainsRune(dst.Email+dst.Password, 0) {
				t.Fatalf("NUL reached a decoded field")
			}
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 {
			t.Fatalf("decode error %v is not a 4xx apiError", err)
		}
		if dst != (fuzzBody{}) {
			t.Fatalf("failed decode left %+v behind", dst)
		}
	})
}

// FuzzRedirectURL ensures a URL accepted as a redirect target can only lead to a trusted origin:
// a root-relative path on this host, a trusted origin, or the trusted app scheme.
func FuzzRedirectURL(f *testing.F) {
	s := fuzzServer()
	for _, u := range []string{"/dashboard", "https://app.example.com/x", "https:/evil.com", "//evil.com", `\\evil.com`,
		"/\\evil.com", "https://app.example.com@evil.com", "javascript:alert(1)", "https://sub.example.org/cb",
		"myapp://callback/x", "HTTPS://APP.EXAMPLE.COM", "https://app.example.com.", "/%2F%2Fevil.com", "https://evil.com#@app.example.com"} {
		f.Add(u)
	}
	r := httptest.NewRequest(http.MethodGet, "/api/auth/ok", nil)
	f.Fuzz(func(t *testing.T, u string) {
		if !s.isTrustedURL(r, u, true) {
			return
		}
		if strings.ContainsAny(u, "\\\t\r\n") {
			t.Fatalf("accepted %q with characters browsers reinterpret", u)
		}
		if strings.HasPrefix(u, "/") {
			if strings.HasPrefix(u, "//") {
				t.Fatalf("accepted protocol-relative %q", u)
			}
			return
		}
		// The app's own scheme is matched as text, as upstream does: its path is the app's
		// business, and Go's URL parser need not like it ("myapp://callback/%").
		if rest, ok := strings.CutPrefix(strings.ToLower(u), "myapp://callback"); ok {
			if rest != "" && !strings.ContainsAny(rest[:1], "/?#") {
				t.Fatalf("accepted %q: not the trusted app authority", u)
			}
			return
		}
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatalf("accepted unparsable %q", u)
		}
		switch strings.ToLower(parsed.Scheme) {
		case "http", "https":
			host := strings.ToLower(parsed.Hostname())
			if parsed.User != nil || (host != "app.example.com" && !strings.HasSuffix(host, ".example.org")) {
				t.Fatalf("accepted %q leading to host %q", u, host)
			}
		default:
			t.Fatalf("accepted %q with scheme %q", u, parsed.Scheme)
		}
	})
}

// FuzzOAuthState ensures a client's additionalData can never set or change any part of the state
// the callback trusts: whatever keys and values it holds, the stored state reads back as the
// server wrote it.
func FuzzOAuthState(f *testing.F) {
	f.Add(`{"callbackURL":"https://evil.com","codeVerifier":"x","expiresAt":9e99}`, "/dashboard", "")
	f.Add(`{"errorURL":"//evil.com","newUserURL":"javascript:x","link":{"userId":"victim"},"requestSignUp":true}`, "/", "/error")
	f.Add(`{"serverContext":{"ssoProviderReference":{"providerId":"x"}},"oauthState":"s","idTokenNonce":"n"}`, "/", "")
	f.Add(`{"CallbackURL":"https://evil.com","callbackurl":"x","callbackURL\u0000":1,"team":"a"}`, "/cb", "")
	f.Add(`{"LINK":{"userId":"victim","email":"v@example.com"},"expiresAT":9e99,"codeVerifier":"x"}`, "/cb", "")
	f.Fuzz(func(t *testing.T, additional, callbackURL, errorURL string) {
		var extra map[string]any
		// The URLs come from a JSON body, so they are valid UTF-8 (JSON would replace the rest).
		if json.Unmarshal([]byte(additional), &extra) != nil || !utf8.ValidString(callbackURL) || !utf8.ValidString(errorURL) {
			return
		}
		want := oauthState{CallbackURL: callbackURL, CodeVerifier: "verifier", ErrorURL: errorURL, ExpiresAt: 1764158400000}
		encoded, err := encodeOAuthState(want, extra)
		if err != nil {
			return // additionalData JSON cannot hold (NaN never reaches here: it came from JSON)
		}
		var got oauthState
		if err := json.Unmarshal([]byte(encoded), &got); err != nil {
			t.Fatalf("stored state %q does not read back: %v", encoded, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("additionalData %s changed the state: got %+v, want %+v", additional, got, want)
		}
	})
}

// FuzzTOTP ensures a TOTP code is accepted only when it is the RFC 6238 code of a step within the
// window around now, and that the current step's code always is.
func FuzzTOTP(f *testing.F) {
	f.Add([]byte("12345678901234567890"), "287082", int64(59))
	f.Add([]byte("12345678901234567890"), "", int64(1111111109))
	f.Add([]byte{}, "000000", int64(0))
	f.Add([]byte("k"), "1234567", int64(-30))
	f.Add([]byte("k"), "۱۲۳۴۵۶", int64(1764158400))
	f.Fuzz(func(t *testing.T, key []byte, code string, unix int64) {
		now := time.Unix(unix%(1<<40), 0)
		step, ok := matchTOTP(key, code, now)
		if ok {
			if d := step - totpStep(now); d < -totpWindow || d > totpWindow {
				t.Fatalf("code %q matched step %d, %d steps from now", code, step, d)
			}
			if totpCode(key, step) != code {
				t.Fatalf("code %q matched step %d whose code is %q", code, step, totpCode(key, step))
			}
		}
		if _, ok := matchTOTP(key, totpCode(key, totpStep(now)), now); !ok {
			t.Fatalf("the current code of key %x at %v is refused", key, now)
		}
	})
}

// FuzzOTPValue ensures a stored email OTP ("<code>:<attempts>") splits at its last colon with the
// code intact, so a code holding colons is compared whole and attempts never read negative from
// a well-formed value.
func FuzzOTPValue(f *testing.F) {
	f.Add("123456:0")
	f.Add("123456:3")
	f.Add("12:34:5")
	f.Add("123456")
	f.Add("123456:-1")
	f.Add("123456:99999999999999999999")
	f.Fuzz(func(t *testing.T, value string) {
		code, attempts := splitOTPValue(value)
		i := strings.LastIndexByte(value, ':')
		if i < 0 {
			if code != value || attempts != 0 {
				t.Fatalf("%q split into %q, %d", value, code, attempts)
			}
			return
		}
		if code != value[:i] {
			t.Fatalf("%q split into code %q", value, code)
		}
		if n, err := strconv.Atoi(value[i+1:]); err == nil && n >= 0 && attempts != n {
			t.Fatalf("%q split into attempts %d", value, attempts)
		}
	})
}

// FuzzSAMLACS feeds the ACS's input, a posted SAMLResponse, to what the ACS does with it before
// touching the database: decoding, and crewjam/saml's verification for a provider trusting the
// in-process IdP. Nothing may panic, a refusal must map to one of upstream's error codes, and
// whatever is accepted must be the IdP's signed statement about its user: no mutation may change
// who signs in. The seed is a real signed response, so mutations reach the signature checks.
func FuzzSAMLACS(f *testing.F) {
	keys := testSAMLKeys(f)
	s := newServer(config{Secret: testSecret, BaseURL: "https://app.example.com", SSO: ssoConfig{SAMLAllowIDPInitiated: true}}, nil)
	s.now = func() time.Time { return time.Now().UTC() }
	idp := newTestIdP(f, keys[0], "ada@acme.com")
	cfg := fmt.Sprintf(`{"issuer":"https://app.example.com/saml/acme","entryPoint":%q,"cert":%q,"idpMetadata":{"entityID":%q}}`,
		idp.URL+"/sso", keys[0].certPEM, idp.EntityID)
	p := &ssoProvider{ProviderID: "acme", Issuer: spIssuer("acme"), SAMLConfig: &cfg}
	r := httptest.NewRequest(http.MethodPost, "https://app.example.com/api/auth/sso/saml2/sp/acs/acme", nil)
	sp, err := s.samlSP(r, p, p.samlConfig())
	if err != nil {
		f.Fatal(err)
	}
	idp.spMetadata = func(*http.Request, string) (*saml.EntityDescriptor, error) { return sp.Metadata(), nil }
	f.Add(idp.initiate(f, spIssuer("acme")).response)
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><r>&a;</r>`)))
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="id-1"/>`)))
	f.Add("")
	f.Fuzz(func(t *testing.T, encoded string) {
		doc, inResponseTo, problem := decodeSAMLResponse(encoded)
		if problem != nil {
			if doc != nil || inResponseTo != "" || problem[0] == "" {
				t.Fatalf("refused %q but returned a document", encoded)
			}
			return
		}
		sp.Clock = dsig.NewFakeClockAt(s.now())
		a, err := sp.ParseXMLResponse(doc, nil, sp.AcsURL)
		if err != nil {
			if code, _ := samlFailure(err, inResponseTo); a != nil || code == "" {
				t.Fatalf("refusal %v returned an assertion or no code", err)
			}
			return
		}
		if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value != "ada@acme.com" {
			t.Fatalf("accepted an assertion about someone else: %+v", a.Subject)
		}
	})
}
