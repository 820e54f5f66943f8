package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// withJWT turns the jwt plugin on with the grace period its flag defaults to.
func withJWT(c *config) { c.JWT.Enabled, c.JWT.GracePeriod = true, defaultJWKSGrace }

// foreignVerify is what another service does with our JWTs, using a standard JOSE library and
// nothing of ours: fetch the JWKS over HTTP, pick the key by kid, check signature, algorithm,
// issuer, audience and expiry at the given time.
func foreignVerify(t *testing.T, jwksURL, token, issuer string, at time.Time) (map[string]any, error) {
	t.Helper()
	resp, err := http.Get(jwksURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode jwks: %v", err)
	}
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES512, jose.RS256, jose.PS256})
	if err != nil {
		return nil, err
	}
	keys := set.Key(parsed.Headers[0].KeyID)
	if len(keys) == 0 {
		return nil, jose.ErrJWKSKidNotFound
	}
	var std jwt.Claims
	var all map[string]any
	if err := parsed.Claims(keys[0].Key, &std, &all); err != nil {
		return nil, err
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{issuer}, Time: at}, 0); err != nil {
		return nil, err
	}
	return all, nil
}

// b64json is one segment of a compact JWS.
func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestJWTVerifiesWithAStandardJOSELibrary ensures /token and get-session's set-auth-jwt hand out
// EdDSA JWTs with upstream's claims (iat, the user's fields, sub, exp 15 minutes on, iss and aud the
// app's origin) that a foreign service verifies against /jwks with go-jose alone, and that the same
// verifier refuses alg none, a token signed by another key under our kid, a token edited after
// signing, and an expired one.
func TestJWTVerifiesWithAStandardJOSELibrary(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "jwt@example.com", "Jay", withJWT)
	var body struct{ Token string }
	c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body)
	now := ts.now()
	claims, err := foreignVerify(t, ts.URL+"/api/auth/jwks", body.Token, ts.URL, now)
	if err != nil {
		t.Fatalf("our JWT does not verify: %v", err)
	}
	header, _ := base64.RawURLEncoding.DecodeString(strings.Split(body.Token, ".")[0])
	if !strings.HasPrefix(string(header), `{"alg":"EdDSA","kid":"`) {
		t.Fatalf("header %s", header)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(body.Token, ".")[1])
	if !strings.HasPrefix(string(payload), `{"iat":1`) || !regexp.MustCompile(`,"sub":"\w+","exp":\d+,"iss":"[^"]+","aud":"[^"]+"}$`).Match(payload) {
		t.Fatalf("payload member order differs from upstream's: %s", payload)
	}
	iat, exp := claims["iat"].(float64), claims["exp"].(float64)
	if claims["email"] != "jwt@example.com" || claims["name"] != "Jay" || claims["sub"] != claims["id"] ||
		exp-iat != 900 || int64(iat) != now.Unix() || claims["emailVerified"] != false {
		t.Fatalf("claims %v", claims)
	}

	resp := c.get("/api/auth/get-session").wantStatus(t, http.StatusOK)
	fromSession := resp.Header.Get("set-auth-jwt")
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", fromSession, ts.URL, now); err != nil {
		t.Fatalf("set-auth-jwt does not verify: %v (%q)", err, fromSession)
	}
	if h := resp.Header.Get("Access-Control-Expose-Headers"); h != "set-auth-jwt" {
		t.Fatalf("Access-Control-Expose-Headers %q", h)
	}

	parts := strings.Split(body.Token, ".")
	var hdr struct{ Kid string }
	json.Unmarshal(header, &hdr)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	forged, err := signCompact(&signingKey{kid: hdr.Kid, alg: jose.EdDSA, key: otherKey}, payload)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(payload), "jwt@example.com", "admin@example.com", 1)
	refused := map[string]string{
		"alg none":       b64json(map[string]string{"alg": "none", "kid": hdr.Kid}) + "." + parts[1] + ".",
		"another key":    forged,
		"edited payload": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(edited)) + "." + parts[2],
	}
	for name, token := range refused {
		if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", token, ts.URL, now); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", body.Token, ts.URL, now.Add(15*time.Minute+time.Second)); err == nil {
		t.Error("expired token verified")
	}
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", body.Token, "https://other.example", now); err == nil {
		t.Error("token verified for another issuer and audience")
	}
}

// TestJWTRoutesOnlyWithThePlugin ensures /token and /jwks are not served and get-session carries
// no set-auth-jwt without the plugin, and that with it /token needs a session: signed out, or with
// a JWT (of any kind) as bearer token, it is 401, never a 5xx.
func TestJWTRoutesOnlyWithThePlugin(t *testing.T) {
	t.Parallel()
	off, c := newSignedInServer(t, "nojwt@example.com", "No")
	c.get("/api/auth/token").wantStatus(t, http.StatusNotFound)
	c.get("/api/auth/jwks").wantStatus(t, http.StatusNotFound)
	if h := c.get("/api/auth/get-session").Header.Get("set-auth-jwt"); h != "" || off.rowCount(t, "jwks") != 0 {
		t.Fatalf("set-auth-jwt %q without the plugin", h)
	}

	ts, signedIn := newSignedInServer(t, "jwt-off@example.com", "On", withJWT, withBearer)
	var body struct{ Token string }
	signedIn.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body)
	parts := strings.Split(body.Token, ".")
	for name, token := range map[string]string{
		"our JWT":  body.Token,
		"alg none": b64json(map[string]string{"alg": "none"}) + "." + parts[1] + ".",
		"garbage":  "a.b.c",
	} {
		anon := ts.client(t)
		anon.get("/api/auth/token", "Authorization", "Bearer "+token).wantError(t, http.StatusUnauthorized, "UNAUTHORIZED")
		if s := anon.get("/api/auth/get-session", "Authorization", "Bearer "+token); string(s.Body) != "null" || s.Header.Get("set-auth-jwt") != "" {
			t.Fatalf("%s as bearer token: get-session %s", name, s.Body)
		}
	}
}
