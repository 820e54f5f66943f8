package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"flag"
	"fmt"
	"strconv"
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
	GracePeriod      time.Duration // an expired key stays in the JWKS this long
}

const (
	defaultJWTExpiresIn = 15 * time.Minute
	defaultJWKSGrace    = 30 * 24 * time.Hour
	defaultKeyAlg       = "EdDSA"
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
