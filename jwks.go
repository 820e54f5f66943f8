package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/jackc/pgx/v5"
)

// The jwt plugin's signing keys (upstream: packages/better-auth/src/plugins/jwt/utils.ts,
// createJwk; adapter.ts; sign.ts, resolveSigningKey): rows of upstream's "jwks" table, the public
// key a JWK in JSON, the private key a JWK in JSON encrypted with symmetricEncrypt under the
// secret and stored as a JSON string, so that a key either server made signs in the other and
// both publish the same set.
//
// Rotation is upstream's jwks.rotationInterval: a key made with an interval expires after it,
// the next token is signed with a new key, and the expired one stays published for the grace
// period (jwks.gracePeriod, 30 days by default) so that tokens it signed still verify.

type jwtConfig struct {
	Enabled          bool
	Issuer           string        // "": the app's origin, as upstream's default (options.baseURL)
	Audience         string        // "": the app's origin
	ExpiresIn        time.Duration // of each JWT; upstream's expirationTime, 15 minutes
	KeyAlg           string        // algorithm of new keys: EdDSA (Ed25519), ES256, ES512, RS256 or PS256
	RotationInterval time.Duration // 0: a key never expires
	GracePeriod      time.Duration // an expired key stays in the JWKS this long
}

const (
	defaultJWTExpiresIn = 15 * time.Minute
	defaultJWKSGrace    = 30 * 24 * time.Hour
	defaultKeyAlg       = "EdDSA"
	// jwksMaxAge is how long a JWKS answer may be cached, by its verifiers and by us. Verifiers
	// refetch on an unknown kid anyway; a short age bounds how long a removed key is believed.
	jwksMaxAge = 5 * time.Minute
	// signingKeyTTL is how long a replica signs with the key it last read before reading the
	// table again, so that one made by another replica is picked up.
	signingKeyTTL = time.Minute
)

type jwtFlags struct{ enabled, issuer, audience, expiresIn, alg, rotation, grace string }

// registerJWTFlags adds the jwt flags to fs, each defaulting to its environment variable.
func registerJWTFlags(fs *flag.FlagSet, env func(name, def string) string) *jwtFlags {
	f := &jwtFlags{}
	fs.StringVar(&f.enabled, "jwt", env("JWT_ENABLED", "false"), "[JWT_ENABLED] serve GET /token and GET /jwks and answer set-auth-jwt on get-session (upstream's jwt plugin)")
	fs.StringVar(&f.issuer, "jwt-issuer", env("JWT_ISSUER", ""), "[JWT_ISSUER] iss of the JWTs; empty: the app's origin (BETTER_AUTH_URL)")
	fs.StringVar(&f.audience, "jwt-audience", env("JWT_AUDIENCE", ""), "[JWT_AUDIENCE] aud of the JWTs; empty: the app's origin (BETTER_AUTH_URL)")
	fs.StringVar(&f.expiresIn, "jwt-expires-in", env("JWT_EXPIRES_IN", "15m"), "[JWT_EXPIRES_IN] lifetime of a JWT: seconds or a duration such as 15m, 1h")
	fs.StringVar(&f.alg, "jwks-key-alg", env("JWKS_KEY_ALG", defaultKeyAlg), "[JWKS_KEY_ALG] algorithm of new signing keys: EdDSA (Ed25519), ES256, ES512, RS256 or PS256")
	fs.StringVar(&f.rotation, "jwks-rotation-interval", env("JWKS_ROTATION_INTERVAL", "0"), "[JWKS_ROTATION_INTERVAL] a signing key is replaced after this long (seconds or a duration such as 720h); 0: never")
	fs.StringVar(&f.grace, "jwks-grace-period", env("JWKS_GRACE_PERIOD", "720h"), "[JWKS_GRACE_PERIOD] a replaced key stays published this long, so tokens it signed still verify (seconds or a duration)")
	return f
}

func (f *jwtFlags) parse() (jwtConfig, error) {
	c := jwtConfig{Issuer: f.issuer, Audience: f.audience, KeyAlg: f.alg}
	var err error
	if c.Enabled, err = strconv.ParseBool(f.enabled); err != nil {
		return c, fmt.Errorf("JWT_ENABLED: want true or false, got %q", f.enabled)
	}
	durations := []struct {
		name, raw string
		dst       *time.Duration
	}{
		{"JWT_EXPIRES_IN", f.expiresIn, &c.ExpiresIn},
		{"JWKS_ROTATION_INTERVAL", f.rotation, &c.RotationInterval},
		{"JWKS_GRACE_PERIOD", f.grace, &c.GracePeriod},
	}
	for _, d := range durations {
		if *d.dst, err = parseSecondsOrDuration(d.raw); err != nil {
			return c, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if c.ExpiresIn <= 0 {
		return c, fmt.Errorf("JWT_EXPIRES_IN: want a positive duration, got %q", f.expiresIn)
	}
	if _, ok := keyAlgs[c.KeyAlg]; !ok {
		return c, fmt.Errorf("JWKS_KEY_ALG: want EdDSA, ES256, ES512, RS256 or PS256, got %q", c.KeyAlg)
	}
	return c, nil
}

// parseSecondsOrDuration reads "900" as seconds (upstream's numeric options) and "15m" as a Go
// duration; negative values are refused.
func parseSecondsOrDuration(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("want a duration, got %q", v)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want seconds or a duration such as 15m, got %q", v)
	}
	return d, nil
}

func (c jwtConfig) expiresIn() time.Duration {
	if c.ExpiresIn == 0 {
		return defaultJWTExpiresIn
	}
	return c.ExpiresIn
}

func (c jwtConfig) keyAlg() string {
	if c.KeyAlg == "" {
		return defaultKeyAlg
	}
	return c.KeyAlg
}

func (c jwtConfig) gracePeriod() time.Duration {
	if c.GracePeriod == 0 {
		return defaultJWKSGrace
	}
	return c.GracePeriod
}

// keyAlgs makes a new private key for each algorithm a key may be made for, as upstream's
// generateExportedKeyPair does with jose's defaults (RSA: 2048 bits).
var keyAlgs = map[string]func() (crypto.Signer, error){
	"EdDSA": func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
	"ES256": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	"ES512": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
	"RS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
	"PS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
}

// jwkRow is one row of the jwks table.
type jwkRow struct {
	ID         string
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	Alg        *string
	Crv        *string
}

const jwkColumns = `id, "publicKey", "privateKey", "createdAt", "expiresAt", alg, crv`

func (k *jwkRow) scanTargets() []any {
	return []any{&k.ID, &k.PublicKey, &k.PrivateKey, &k.CreatedAt, &k.ExpiresAt, &k.Alg, &k.Crv}
}

// alg is the row's algorithm; rows written before upstream had the column inherit the default.
func (k jwkRow) alg(c jwtConfig) string {
	if k.Alg != nil && *k.Alg != "" {
		return *k.Alg
	}
	return c.keyAlg()
}

func (k jwkRow) liveAt(now time.Time) bool { return k.ExpiresAt == nil || k.ExpiresAt.After(now) }

// allKeys lists every stored key, oldest first.
func allKeys(ctx context.Context, q querier) ([]jwkRow, error) {
	rows, err := q.Query(ctx, `SELECT `+jwkColumns+` FROM jwks ORDER BY "createdAt", id`)
	if err != nil {
		return nil, fmt.Errorf("list jwks: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (jwkRow, error) {
		var k jwkRow
		return k, row.Scan(k.scanTargets()...)
	})
	if err != nil {
		return nil, fmt.Errorf("list jwks: %w", err)
	}
	return keys, nil
}

// latestLiveKey is upstream's choice of signing key: the newest unexpired key of the configured
// algorithm, else the newest unexpired key of any.
func latestLiveKey(keys []jwkRow, c jwtConfig, now time.Time) *jwkRow {
	var best, bestOfAlg *jwkRow
	for i := range keys {
		k := &keys[i]
		if !k.liveAt(now) {
			continue
		}
		if best == nil || !k.CreatedAt.Before(best.CreatedAt) {
			best = k
		}
		if k.alg(c) == c.keyAlg() && (bestOfAlg == nil || !k.CreatedAt.Before(bestOfAlg.CreatedAt)) {
			bestOfAlg = k
		}
	}
	if bestOfAlg != nil {
		return bestOfAlg
	}
	return best
}

// signingKey is a decrypted key ready to sign.
type signingKey struct {
	kid       string
	alg       jose.SignatureAlgorithm
	key       crypto.Signer
	expiresAt *time.Time
	readAt    time.Time
}

// keyRing caches the signing key and the JWKS answer of one replica.
type keyRing struct {
	mu      sync.Mutex
	current *signingKey
	jwks    []byte
	jwksAt  time.Time
}

// currentSigningKey returns the key to sign with, making one when none is live (the first token,
// or the last key expired by rotation). Two replicas never both make one: the check and the
// insert run under one advisory lock.
func (s *server) currentSigningKey(ctx context.Context) (*signingKey, error) {
	now := s.now()
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if k := s.keys.current; k != nil && now.Sub(k.readAt) < signingKeyTTL && (k.expiresAt == nil || k.expiresAt.After(now)) {
		return k, nil
	}
	var row jwkRow
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		var err error
		row, err = s.liveKeyOrNew(ctx, tx, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	k, err := s.decryptKey(row)
	if err != nil {
		return nil, err
	}
	k.readAt = now
	if s.keys.current == nil || s.keys.current.kid != k.kid {
		s.keys.jwks = nil // a key this JWKS answer does not list may sign from now on
	}
	s.keys.current = k
	return k, nil
}

// liveKeyOrNew is the transaction body of currentSigningKey.
func (s *server) liveKeyOrNew(ctx context.Context, tx pgx.Tx, now time.Time) (jwkRow, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7242116)`); err != nil {
		return jwkRow{}, fmt.Errorf("lock jwks: %w", err)
	}
	keys, err := allKeys(ctx, tx)
	if err != nil {
		return jwkRow{}, err
	}
	if k := latestLiveKey(keys, s.cfg.JWT, now); k != nil {
		return *k, nil
	}
	return s.createKey(ctx, tx, now)
}

// createKey makes and stores a key of the configured algorithm, as upstream's createJwk.
func (s *server) createKey(ctx context.Context, q querier, now time.Time) (jwkRow, error) {
	alg := s.cfg.JWT.keyAlg()
	priv, err := keyAlgs[alg]()
	if err != nil {
		return jwkRow{}, fmt.Errorf("generate %s key: %w", alg, err)
	}
	pub, err := nodeJWK(priv.Public())
	if err != nil {
		return jwkRow{}, err
	}
	private, err := nodeJWK(priv)
	if err != nil {
		return jwkRow{}, err
	}
	sealed, err := s.symmetricEncrypt(private)
	if err != nil {
		return jwkRow{}, err
	}
	stored, _ := json.Marshal(sealed) // upstream stores JSON.stringify of the hex string
	k := jwkRow{ID: generateID(32), PublicKey: pub, PrivateKey: string(stored), CreatedAt: now, Alg: &alg}
	if crv := jwkCurve(pub); crv != "" {
		k.Crv = &crv
	}
	if d := s.cfg.JWT.RotationInterval; d > 0 {
		exp := now.Add(d)
		k.ExpiresAt = &exp
	}
	_, err = q.Exec(ctx, `INSERT INTO jwks (`+jwkColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.scanTargets()...)
	if err != nil {
		return jwkRow{}, fmt.Errorf("insert jwk: %w", err)
	}
	return k, nil
}

var errKeyDecrypt = errors.New("jwks: a private key does not decrypt with BETTER_AUTH_SECRET (was the secret changed?)")

// decryptKey opens a stored private key: the JSON string of symmetricEncrypt's hex, or of upstream's
// versioned "$ba$<version>$<hex>" envelope (our one secret is tried whatever the version), or a
// plain JWK when the Node server ran with disablePrivateKeyEncryption.
func (s *server) decryptKey(row jwkRow) (*signingKey, error) {
	plain := strings.TrimSpace(row.PrivateKey)
	if !strings.HasPrefix(plain, "{") {
		var sealed string
		if err := json.Unmarshal([]byte(plain), &sealed); err != nil {
			return nil, errKeyDecrypt
		}
		if rest, ok := strings.CutPrefix(sealed, "$ba$"); ok {
			_, sealed, _ = strings.Cut(rest, "$")
		}
		var err error
		if plain, err = s.symmetricDecrypt(sealed); err != nil {
			return nil, errKeyDecrypt
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON([]byte(plain)); err != nil {
		return nil, fmt.Errorf("jwks: private key %s: %w", row.ID, err)
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok || jwk.IsPublic() {
		return nil, fmt.Errorf("jwks: key %s holds no private key", row.ID)
	}
	return &signingKey{kid: row.ID, alg: jose.SignatureAlgorithm(row.alg(s.cfg.JWT)), key: signer, expiresAt: row.ExpiresAt}, nil
}

// jwkMemberOrder is the member order jose's exportJWK gives each key type in Node, so that keys we
// make are stored, and published, exactly as the Node server's.
var jwkMemberOrder = map[string][]string{
	"OKP": {"crv", "d", "x", "kty"},
	"EC":  {"kty", "x", "y", "crv", "d"},
	"RSA": {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"},
}

// nodeJWK is key as a JWK in jose's member order, without kid, alg or use.
func nodeJWK(key any) (string, error) {
	raw, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("encode jwk: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return "", fmt.Errorf("encode jwk: %w", err)
	}
	var kty string
	json.Unmarshal(members["kty"], &kty)
	obj := orderedObject{}
	for _, name := range jwkMemberOrder[kty] {
		if v, ok := members[name]; ok {
			obj.set(name, v)
		}
	}
	return string(obj.encode()), nil
}

// jwkCurve is the crv member of a JWK, "" when it has none (RSA).
func jwkCurve(jwk string) string {
	var k struct {
		Crv string `json:"crv"`
	}
	json.Unmarshal([]byte(jwk), &k)
	return k.Crv
}

// orderedObject is a JSON object that keeps its members' order, as a JavaScript object does: set
// replaces a member in place or appends it.
type orderedObject []struct {
	name  string
	value json.RawMessage
}

func (o *orderedObject) set(name string, value json.RawMessage) {
	for i := range *o {
		if (*o)[i].name == name {
			(*o)[i].value = value
			return
		}
	}
	*o = append(*o, struct {
		name  string
		value json.RawMessage
	}{name, value})
}

// spread sets every member of the JSON object raw, in its order, as {...raw} does.
func (o *orderedObject) spread(raw string) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		o.set(t.(string), v)
	}
	return nil
}

func (o orderedObject) encode() []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(m.name)
		b.Write(name)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// jwksBody renders upstream's getJwks answer: every key not past its grace period, each
// {alg, crv, ...publicKey, kid}. Like upstream, a first request on an empty table makes a key.
func (s *server) jwksBody(ctx context.Context) ([]byte, error) {
	now := s.now()
	s.keys.mu.Lock()
	if s.keys.jwks != nil && now.Sub(s.keys.jwksAt) < 5*time.Second {
		body := s.keys.jwks
		s.keys.mu.Unlock()
		return body, nil
	}
	s.keys.mu.Unlock()
	keys, err := allKeys(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		if _, err := s.currentSigningKey(ctx); err != nil {
			return nil, err
		}
		if keys, err = allKeys(ctx, s.db); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	out.WriteString(`{"keys":[`)
	first := true
	for _, k := range keys {
		if k.ExpiresAt != nil && !k.ExpiresAt.Add(s.cfg.JWT.gracePeriod()).After(now) {
			continue
		}
		item := orderedObject{}
		alg, _ := json.Marshal(k.alg(s.cfg.JWT))
		item.set("alg", alg)
		if k.Crv != nil {
			crv, _ := json.Marshal(*k.Crv)
			item.set("crv", crv)
		}
		if err := item.spread(k.PublicKey); err != nil {
			return nil, fmt.Errorf("jwks: public key %s: %w", k.ID, err)
		}
		kid, _ := json.Marshal(k.ID)
		item.set("kid", kid)
		if !first {
			out.WriteByte(',')
		}
		first = false
		out.Write(item.encode())
	}
	out.WriteString(`]}`)
	body := out.Bytes()
	s.keys.mu.Lock()
	s.keys.jwks, s.keys.jwksAt = body, now
	s.keys.mu.Unlock()
	return body, nil
}
