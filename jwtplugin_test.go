package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func withJWT(c *config) { c.JWT.Enabled = true }

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
	if !strings.HasPrefix(string(payload), `{"iat":`) || !strings.Contains(string(payload), `"twoFactorEnabled":false,"sub":"`) {
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

// TestJWKSRotationPublishesOldKeysForTheGracePeriod ensures that with a rotation interval a key
// signs until it expires, the next token gets a new key, the old key stays in the JWKS (and its
// tokens verify) for the grace period and is gone after it; and that JWKS answers are cacheable.
func TestJWKSRotationPublishesOldKeysForTheGracePeriod(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "rotate@example.com", "Rotate", withJWT, func(c *config) {
		c.JWT.RotationInterval = time.Hour
		c.JWT.GracePeriod = 2 * time.Hour
		c.JWT.ExpiresIn = 3 * time.Hour
	})
	kidOf := func(token string) string {
		h, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
		var v struct{ Kid string }
		json.Unmarshal(h, &v)
		return v.Kid
	}
	published := func() map[string]bool {
		resp := c.get("/api/auth/jwks").wantStatus(t, http.StatusOK)
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" {
			t.Fatalf("Cache-Control %q", cc)
		}
		var set struct{ Keys []struct{ Kid string } }
		resp.decode(t, &set)
		kids := map[string]bool{}
		for _, k := range set.Keys {
			kids[k.Kid] = true
		}
		return kids
	}
	token := func() string {
		var body struct{ Token string }
		c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body)
		return body.Token
	}
	first := token()
	if again := token(); kidOf(again) != kidOf(first) {
		t.Fatal("a live key was replaced")
	}
	ts.clock.advance(time.Hour + time.Second)
	second := token()
	if kidOf(second) == kidOf(first) {
		t.Fatal("an expired key still signs")
	}
	if kids := published(); !kids[kidOf(first)] || !kids[kidOf(second)] || len(kids) != 2 {
		t.Fatalf("after rotation the JWKS lists %v", kids)
	}
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", first, ts.URL, ts.now()); err != nil {
		t.Fatalf("a token of the rotated key no longer verifies: %v", err)
	}
	ts.clock.advance(2 * time.Hour)
	if kids := published(); kids[kidOf(first)] || !kids[kidOf(second)] {
		t.Fatalf("past its grace period the JWKS lists %v", kids)
	}
	if n := ts.rowCount(t, "jwks"); n != 2 {
		t.Fatalf("%d keys stored, want 2", n)
	}
}

// nodeKeyRow is one key of testdata/jwks/node-keys.json, made by the Node server's jwt plugin.
type nodeKeyRow struct {
	ID, Alg, PublicKey, PrivateKey, NodeSignedJWT string
	Crv                                           *string
}

// TestJWKSKeysMadeByTheNodeServer ensures keys the Node server stored (EdDSA, ES256, RS256, the
// private key encrypted with the shared secret) are published as upstream publishes them, sign our
// tokens, and verify the JWTs Node signed with them.
func TestJWKSKeysMadeByTheNodeServer(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/jwks/node-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var fixture struct{ Rows []nodeKeyRow }
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	for i, row := range fixture.Rows {
		t.Run(row.Alg, func(t *testing.T) {
			t.Parallel()
			ts, c := newSignedInServer(t, "node-key@example.com", "Node", withJWT, func(c *config) { c.JWT.KeyAlg = row.Alg })
			ts.exec(t, `INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt", alg, crv) VALUES ($1, $2, $3, $4, $5, $6)`,
				row.ID, row.PublicKey, row.PrivateKey, ts.now().Add(-time.Duration(i+1)*time.Minute), row.Alg, row.Crv)
			var body struct{ Token string }
			c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body)
			if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", body.Token, ts.URL, ts.now()); err != nil {
				t.Fatalf("our token signed with the Node key: %v", err)
			}
			claims, err := foreignVerify(t, ts.URL+"/api/auth/jwks", row.NodeSignedJWT, "http://node.example", time.Unix(1764950000, 0))
			if err != nil || claims["email"] != "node@example.com" {
				t.Fatalf("the Node-signed JWT against our JWKS: %v %v", claims, err)
			}
			var set struct{ Keys []json.RawMessage }
			c.get("/api/auth/jwks").decode(t, &set)
			wantPrefix := `{"alg":"` + row.Alg + `",`
			if len(set.Keys) != 1 || !strings.HasPrefix(string(set.Keys[0]), wantPrefix) || !strings.HasSuffix(string(set.Keys[0]), `,"kid":"`+row.ID+`"}`) {
				t.Fatalf("published %s", set.Keys)
			}
		})
	}
	// A key under another secret is refused with a clear error, not a panic or a new key.
	ts, c := newSignedInServer(t, "other-secret@example.com", "Other", withJWT, func(c *config) { c.Secret = strings.Repeat("z", 40) })
	row := fixture.Rows[0]
	ts.exec(t, `INSERT INTO jwks (id, "publicKey", "privateKey", "createdAt", alg, crv) VALUES ($1, $2, $3, $4, $5, $6)`,
		row.ID, row.PublicKey, row.PrivateKey, ts.now(), row.Alg, row.Crv)
	c.get("/api/auth/token").wantStatus(t, http.StatusInternalServerError)
	if _, err := ts.currentSigningKey(context.Background()); err != errKeyDecrypt {
		t.Fatalf("err %v, want errKeyDecrypt", err)
	}
}

// TestJWKSFloodIsRateLimited ensures a client hammering /jwks gets 429 after the default rule's
// 100 requests in 10 seconds, while the answers before it come from the replica's cache.
func TestJWKSFloodIsRateLimited(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, withJWT, func(c *config) { c.RateLimit = true })
	c := ts.client(t)
	for i := range 100 {
		c.get("/api/auth/jwks").wantStatus(t, http.StatusOK)
		if i == 0 {
			ts.exec(t, `DELETE FROM jwks`) // later answers must come from the cache, not the table
		}
	}
	resp := c.get("/api/auth/jwks").wantStatus(t, http.StatusTooManyRequests)
	if resp.Header.Get("X-Retry-After") == "" {
		t.Fatalf("429 without X-Retry-After: %v", resp.Header)
	}
}

// TestJWTConfigFromEnvironment ensures the JWT and bearer settings are read from the environment
// and that bad values stop start-up naming the variable.
func TestJWTConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"JWT_ENABLED": "true", "JWT_ISSUER": "https://auth.example", "JWT_AUDIENCE": "api",
		"JWT_EXPIRES_IN": "1h", "JWKS_KEY_ALG": "ES256", "JWKS_ROTATION_INTERVAL": "2592000", "BEARER_ENABLED": "true"}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := jwtConfig{Enabled: true, Issuer: "https://auth.example", Audience: "api", ExpiresIn: time.Hour, KeyAlg: "ES256",
		RotationInterval: 30 * 24 * time.Hour, GracePeriod: 30 * 24 * time.Hour}
	if cfg.JWT != want || !cfg.Bearer.Enabled || cfg.Bearer.RequireSignature {
		t.Fatalf("jwt %+v bearer %+v", cfg.JWT, cfg.Bearer)
	}
	for name, value := range map[string]string{"JWT_ENABLED": "yes please", "JWT_EXPIRES_IN": "0", "JWKS_KEY_ALG": "HS256",
		"JWKS_ROTATION_INTERVAL": "-5", "JWKS_GRACE_PERIOD": "soon", "BEARER_ENABLED": "maybe", "BEARER_REQUIRE_SIGNATURE": "2"} {
		_, err := loadConfig(nil, func(k string) string {
			if k == name {
				return value
			}
			return ""
		})
		if err == nil || !strings.HasPrefix(err.Error(), name+":") {
			t.Errorf("%s=%q: err %v", name, value, err)
		}
	}
}
