package main

// Settings of the bearer plugin (bearer.go); upstream: packages/better-auth/src/plugins/bearer/index.ts, BearerOptions.

type bearerConfig struct {
	Enabled bool
	// RequireSignature refuses bare tokens: only "token.signature", as set-auth-token hands
	// out, stands for a session. Upstream's default (false) signs a bare token itself, so a
	// session token alone is a credential.
	RequireSignature bool
}

type bearerFlags struct{ enabled, requireSignature bool }

// registerBearerFlags adds the bearer flags, under the README's "Bearer tokens and JWT" group.
func registerBearerFlags(s *settings) *bearerFlags {
	f := &bearerFlags{}
	s.Bool(&f.enabled, "bearer", "BEARER_ENABLED", false, "accept \"Authorization: Bearer <session token>\" wherever the session cookie is, and answer set-auth-token (upstream's bearer plugin)")
	s.Bool(&f.requireSignature, "bearer-require-signature", "BEARER_REQUIRE_SIGNATURE", false, "accept only signed bearer tokens (token.signature, as set-auth-token gives them), not bare session tokens")
	return f
}

func (f *bearerFlags) config() bearerConfig {
	return bearerConfig{Enabled: f.enabled, RequireSignature: f.requireSignature}
}
