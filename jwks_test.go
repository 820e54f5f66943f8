package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestJWKSRotationPublishesOldKeysForTheGracePeriod ensures that with a rotation interval a key
// signs until it expires, the next token gets a new key, the old key stays in the JWKS (and its
// tokens verify) for the grace period and is gone after it; and that JWKS answers are cacheable
// while a key of theirs signs.
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
	published := func(maxAge string) map[string]bool {
		resp := c.get("/api/auth/jwks").wantStatus(t, http.StatusOK)
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age="+maxAge {
			t.Fatalf("Cache-Control %q, want max-age=%s", cc, maxAge)
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
	if kids := published("300"); !kids[kidOf(first)] || !kids[kidOf(second)] || len(kids) != 2 {
		t.Fatalf("after rotation the JWKS lists %v", kids)
	}
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", first, ts.URL, ts.now()); err != nil {
		t.Fatalf("a token of the rotated key no longer verifies: %v", err)
	}
	ts.clock.advance(2 * time.Hour)
	// No key is live now (the next token makes one), so the set is not to be kept.
	if kids := published("0"); kids[kidOf(first)] || !kids[kidOf(second)] {
		t.Fatalf("past its grace period the JWKS lists %v", kids)
	}
	if n := ts.rowCount(t, "jwks"); n != 2 {
		t.Fatalf("%d keys stored, want 2", n)
	}
}

// nodeKeyRow is one key of testdata/jwt/node-keys.json, made by the Node server's jwt plugin.
type nodeKeyRow struct {
	ID, Alg, PublicKey, PrivateKey, NodeSignedJWT string
	Crv                                           *string
}

// TestJWKSKeysMadeByTheNodeServer ensures keys the Node server stored (EdDSA, ES256, RS256, the
// private key encrypted with the shared secret) are published as upstream publishes them, sign our
// tokens, and verify the JWTs Node signed with them.
func TestJWKSKeysMadeByTheNodeServer(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/jwt/node-keys.json")
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

// TestJWKSGracePeriodZeroUnpublishesARotatedKeyAtOnce ensures JWKS_GRACE_PERIOD=0 is honoured as
// upstream's jwks.gracePeriod: 0 is (getJwks keeps an expired key only while expiresAt +
// gracePeriod is ahead): once a key is rotated out it leaves the JWKS, rather than staying
// published for the 30-day default, so a retired (say, leaked) key stops verifying at once.
func TestJWKSGracePeriodZeroUnpublishesARotatedKeyAtOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{"JWT_ENABLED": "true", "JWT_EXPIRES_IN": "3h", "JWKS_ROTATION_INTERVAL": "1h", "JWKS_GRACE_PERIOD": "0s"}
	loaded, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ts, c := newSignedInServer(t, "no-grace@example.com", "NoGrace", func(c *config) { c.JWT = loaded.JWT })
	var first, second struct{ Token string }
	c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &first)
	ts.clock.advance(time.Hour + time.Second)
	c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &second)
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", second.Token, ts.URL, ts.now()); err != nil {
		t.Fatalf("the new key's token: %v", err)
	}
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", first.Token, ts.URL, ts.now()); err == nil {
		t.Fatal("with no grace period, a token of the rotated key still verifies against the JWKS")
	}
}

// TestJWKSAfterEveryKeyIsDeletedPublishesTheKeyThatSigns ensures that once the jwks table is
// emptied (an operator discarding leaked keys, or keys of a lost secret, as upstream's decrypt
// error advises), GET /jwks makes a key as upstream's getJwks does on an empty table, rather than
// answering an empty, cacheable set while the replica goes on signing with a key it remembers.
func TestJWKSAfterEveryKeyIsDeletedPublishesTheKeyThatSigns(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "wiped@example.com", "Wiped", withJWT)
	c.get("/api/auth/token").wantStatus(t, http.StatusOK)
	ts.exec(t, `DELETE FROM jwks`)
	var set struct{ Keys []struct{ Kid string } }
	c.get("/api/auth/jwks").wantStatus(t, http.StatusOK).decode(t, &set)
	if len(set.Keys) != 1 {
		t.Fatalf("after the keys were deleted the JWKS lists %v, want the one new key", set.Keys)
	}
	var body struct{ Token string }
	c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body)
	if _, err := foreignVerify(t, ts.URL+"/api/auth/jwks", body.Token, ts.URL, ts.now()); err != nil {
		t.Fatalf("a token signed after the keys were deleted: %v", err)
	}
}

// TestJWKSOfAnotherReplicaListsTheKeyARotationJustMade ensures that a replica whose JWKS answer
// was rendered before the signing key expired does not answer it again once the key has expired:
// another replica makes the next key at that moment and signs with it, and upstream's getJwks,
// which reads the table each time, lists it from then on.
func TestJWKSOfAnotherReplicaListsTheKeyARotationJustMade(t *testing.T) {
	t.Parallel()
	db, _ := newTestDB(t)
	opts := []func(*config){withJWT, func(c *config) {
		c.JWT.RotationInterval = time.Hour
		c.JWT.ExpiresIn = 3 * time.Hour
	}}
	a, b := startTestServer(t, db, nil, opts...), startTestServer(t, db, nil, opts...)
	c := b.client(t)
	c.signUp("replicas@example.com", "password123", "Replicas")
	c.get("/api/auth/token").wantStatus(t, http.StatusOK) // b makes the first key, for an hour
	b.clock.advance(time.Hour - 2*time.Second)
	a.clock.set(b.now())
	a.client(t).get("/api/auth/jwks").wantStatus(t, http.StatusOK) // rendered while that key signs
	b.clock.advance(3 * time.Second)
	a.clock.set(b.now())
	var body struct{ Token string }
	c.get("/api/auth/token").wantStatus(t, http.StatusOK).decode(t, &body) // b rotates
	if _, err := foreignVerify(t, a.URL+"/api/auth/jwks", body.Token, b.URL, b.now()); err != nil {
		t.Fatalf("the rotated-in key's token against the other replica's JWKS: %v", err)
	}
}

// TestJWKSCacheControlEndsWhenAKeyOfTheSetExpires ensures verifiers are not told to keep a JWKS
// answer past the expiry of the key that signs: the next key signs as soon as it is made, and a
// cache holding the older set would answer a verifier's refetch for that key without it.
func TestJWKSCacheControlEndsWhenAKeyOfTheSetExpires(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "max-age@example.com", "MaxAge", withJWT, func(c *config) { c.JWT.RotationInterval = time.Hour })
	cacheControl := func() string {
		return c.get("/api/auth/jwks").wantStatus(t, http.StatusOK).Header.Get("Cache-Control")
	}
	ts.clock.set(ts.now())
	c.get("/api/auth/token").wantStatus(t, http.StatusOK)
	if cc := cacheControl(); cc != "public, max-age=300" {
		t.Fatalf("an hour before the key expires: Cache-Control %q", cc)
	}
	ts.clock.advance(time.Hour - 2*time.Second)
	if cc := cacheControl(); cc != "public, max-age=2" {
		t.Fatalf("2 s before the key expires: Cache-Control %q", cc)
	}
	ts.clock.advance(3 * time.Second)
	if cc := cacheControl(); cc != "public, max-age=0" {
		t.Fatalf("with no live key: Cache-Control %q", cc)
	}
}
