package main

import (
	"strings"
	"testing"
	"time"
)

// TestJWTAndBearerConfigFromEnvironment ensures the JWT and bearer settings are read from the environment
// and that bad values stop start-up naming the variable.
func TestJWTAndBearerConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{"JWT_ENABLED": "true", "JWT_ISSUER": "https://auth.example", "JWT_AUDIENCE": "api",
		"JWT_EXPIRES_IN": "1h", "JWKS_KEY_ALG": "ES256", "JWKS_ROTATION_INTERVAL": "720h", "BEARER_ENABLED": "true"}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := jwtConfig{Enabled: true, Issuer: "https://auth.example", Audience: "api", ExpiresIn: time.Hour, KeyAlg: "ES256",
		RotationInterval: 30 * 24 * time.Hour, GracePeriod: 30 * 24 * time.Hour}
	if cfg.JWT != want || !cfg.Bearer.Enabled || cfg.Bearer.RequireSignature {
		t.Fatalf("jwt %+v bearer %+v", cfg.JWT, cfg.Bearer)
	}
	for name, value := range map[string]string{"JWT_ENABLED": "yes please", "JWT_EXPIRES_IN": "500ms", "JWKS_KEY_ALG": "HS256",
		"JWKS_ROTATION_INTERVAL": "-5m", "JWKS_GRACE_PERIOD": "soon", "BEARER_ENABLED": "maybe", "BEARER_REQUIRE_SIGNATURE": "2"} {
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
