package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
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

const (
	// jwksMaxAge is how long verifiers may cache a JWKS answer (its Cache-Control). Verifiers
	// refetch on an unknown kid anyway; a short age bounds how long a removed key is believed.
	jwksMaxAge = 5 * time.Minute
	// jwksCacheAge is how long a replica answers /jwks from the body it last rendered, so that
	// a flood of requests is not a flood of queries.
	jwksCacheAge = 5 * time.Second
	// signingKeyTTL is how long a replica signs with the key it last read before reading the
	// table again, so that one made by another replica is picked up.
	signingKeyTTL = time.Minute
)

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
	change  time.Time // of jwks: keySetChange
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
func (s *server) jwksBody(ctx context.Context) ([]byte, time.Time, error) {
	now := s.now()
	s.keys.mu.Lock()
	if s.keys.jwks != nil && now.Sub(s.keys.jwksAt) < jwksCacheAge && (s.keys.change.IsZero() || now.Before(s.keys.change)) {
		body, change := s.keys.jwks, s.keys.change
		s.keys.mu.Unlock()
		return body, change, nil
	}
	s.keys.mu.Unlock()
	keys, err := allKeys(ctx, s.db)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(keys) == 0 {
		// The key this replica remembers is gone from the table (deleted): forget it, so that
		// currentSigningKey reads the table and makes the key that signs and is published.
		s.keys.mu.Lock()
		s.keys.current = nil
		s.keys.mu.Unlock()
		if _, err := s.currentSigningKey(ctx); err != nil {
			return nil, time.Time{}, err
		}
		if keys, err = allKeys(ctx, s.db); err != nil {
			return nil, time.Time{}, err
		}
	}
	var out bytes.Buffer
	out.WriteString(`{"keys":[`)
	first := true
	for _, k := range keys {
		if k.ExpiresAt != nil && !k.ExpiresAt.Add(s.cfg.JWT.GracePeriod).After(now) {
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
			return nil, time.Time{}, fmt.Errorf("jwks: public key %s: %w", k.ID, err)
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
	body, change := out.Bytes(), keySetChange(keys, now)
	s.keys.mu.Lock()
	s.keys.jwks, s.keys.jwksAt, s.keys.change = body, now, change
	s.keys.mu.Unlock()
	return body, change, nil
}

// keySetChange is when a JWKS rendered from keys at now may stop listing the key that signs: the
// first expiry of a live key in it, since from then on any replica may make a key and sign with it
// at once; now when none is live (one is about to be made); zero when no live key expires. Neither
// this replica nor the verifiers keep the answer past it.
func keySetChange(keys []jwkRow, now time.Time) time.Time {
	var change time.Time
	live := false
	for _, k := range keys {
		if !k.liveAt(now) {
			continue
		}
		live = true
		if k.ExpiresAt != nil && (change.IsZero() || k.ExpiresAt.Before(change)) {
			change = *k.ExpiresAt
		}
	}
	if !live {
		return now
	}
	return change
}
