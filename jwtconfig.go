package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"time"
)

// Settings of the jwt plugin (jwks.go, jwtplugin.go); upstream: packages/better-auth/src/plugins/jwt/types.ts, JwtOptions.

type jwtConfig struct {
	Enabled          bool
	Issuer           string        // "": the app's origin, as upstream's default (options.baseURL)
	Audience         string        // "": the app's origin
	ExpiresIn        time.Duration // of each JWT; upstream's expirationTime, 15 minutes
	KeyAlg           string        // algorithm of new keys: EdDSA (Ed25519), ES256, ES512, RS256 or PS256
	RotationInterval time.Duration // 0: a key never expires
	GracePeriod      time.Duration // an expired key stays in the JWKS this long; 0: it leaves at once
}

const (
	defaultJWTExpiresIn = 15 * time.Minute
	defaultJWKSGrace    = 30 * 24 * time.Hour
	defaultKeyAlg       = "EdDSA"
)

type jwtFlags struct {
	enabled                          bool
	issuer, audience, alg            string
	expiresIn, rotation, gracePeriod time.Duration
}

// registerJWTFlags adds the jwt flags, under the README's "Bearer tokens and JWT" group.
func registerJWTFlags(s *settings) *jwtFlags {
	f := &jwtFlags{}
	s.Bool(&f.enabled, "jwt", "JWT_ENABLED", false, "serve GET /token and GET /jwks and answer set-auth-jwt on get-session (upstream's jwt plugin)")
	s.String(&f.issuer, "jwt-issuer", "JWT_ISSUER", "", "iss of the JWTs; empty: the app's origin (BETTER_AUTH_URL)")
	s.String(&f.audience, "jwt-audience", "JWT_AUDIENCE", "", "aud of the JWTs; empty: the app's origin (BETTER_AUTH_URL)")
	s.Duration(&f.expiresIn, "jwt-expires-in", "JWT_EXPIRES_IN", defaultJWTExpiresIn, "lifetime of a JWT")
	s.String(&f.alg, "jwks-key-alg", "JWKS_KEY_ALG", defaultKeyAlg, "algorithm of new signing keys: EdDSA (Ed25519), ES256, ES512, RS256 or PS256")
	s.Duration(&f.rotation, "jwks-rotation-interval", "JWKS_ROTATION_INTERVAL", 0, "a signing key is replaced after this long, e.g. 720h; 0: never")
	s.Duration(&f.gracePeriod, "jwks-grace-period", "JWKS_GRACE_PERIOD", defaultJWKSGrace, "a replaced key stays published this long, so tokens it signed still verify")
	return f
}

func (f *jwtFlags) parse() (jwtConfig, error) {
	c := jwtConfig{Enabled: f.enabled, Issuer: f.issuer, Audience: f.audience, ExpiresIn: f.expiresIn,
		KeyAlg: f.alg, RotationInterval: f.rotation, GracePeriod: f.gracePeriod}
	switch {
	case c.ExpiresIn < time.Second: // exp is in whole seconds: less would expire as it is issued
		return c, fmt.Errorf("JWT_EXPIRES_IN: want a duration of at least 1s, got %s", c.ExpiresIn)
	case c.RotationInterval < 0:
		return c, fmt.Errorf("JWKS_ROTATION_INTERVAL: want a duration, got %s", c.RotationInterval)
	case c.GracePeriod < 0:
		return c, fmt.Errorf("JWKS_GRACE_PERIOD: want a duration, got %s", c.GracePeriod)
	}
	if _, ok := keyAlgs[c.KeyAlg]; !ok {
		return c, fmt.Errorf("JWKS_KEY_ALG: want EdDSA, ES256, ES512, RS256 or PS256, got %q", c.KeyAlg)
	}
	return c, nil
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

// keyAlgs makes a new private key for each algorithm a key may be made for, as upstream's
// generateExportedKeyPair does with jose's defaults (RSA: 2048 bits).
var keyAlgs = map[string]func() (crypto.Signer, error){
	"EdDSA": func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err },
	"ES256": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) },
	"ES512": func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P521(), rand.Reader) },
	"RS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
	"PS256": func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) },
}
