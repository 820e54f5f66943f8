package main

import (
	"flag"
	"fmt"
	"strconv"
)

// Settings of the bearer plugin (bearer.go); upstream: packages/better-auth/src/plugins/bearer/index.ts, BearerOptions.

type bearerConfig struct {
	Enabled bool
	// RequireSignature refuses bare tokens: only "token.signature", as set-auth-token hands
	// out, stands for a session. Upstream's default (false) signs a bare token itself, so a
	// session token alone is a credential.
	RequireSignature bool
}

type bearerFlags struct{ enabled, requireSignature string }

// registerBearerFlags adds the bearer flags to fs, each defaulting to its environment variable.
func registerBearerFlags(fs *flag.FlagSet, env func(name, def string) string) *bearerFlags {
	f := &bearerFlags{}
	fs.StringVar(&f.enabled, "bearer", env("BEARER_ENABLED", "false"), "[BEARER_ENABLED] accept \"Authorization: Bearer <session token>\" wherever the session cookie is, and answer set-auth-token (upstream's bearer plugin)")
	fs.StringVar(&f.requireSignature, "bearer-require-signature", env("BEARER_REQUIRE_SIGNATURE", "false"), "[BEARER_REQUIRE_SIGNATURE] accept only signed bearer tokens (token.signature, as set-auth-token gives them), not bare session tokens")
	return f
}

func (f *bearerFlags) parse() (bearerConfig, error) {
	var c bearerConfig
	var err error
	if c.Enabled, err = strconv.ParseBool(f.enabled); err != nil {
		return c, fmt.Errorf("BEARER_ENABLED: want true or false, got %q", f.enabled)
	}
	if c.RequireSignature, err = strconv.ParseBool(f.requireSignature); err != nil {
		return c, fmt.Errorf("BEARER_REQUIRE_SIGNATURE: want true or false, got %q", f.requireSignature)
	}
	return c, nil
}
