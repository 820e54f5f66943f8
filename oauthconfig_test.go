package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestOAuthProvidersFromEnv ensures the provider settings are read from the environment: built-in
// providers by AUTH_<NAME>_CLIENT_ID, secrets from the environment only, and every
// AUTH_OIDC_<ID>_ISSUER as a generic OpenID provider. It sets process environment variables, so it
// does not run in parallel.
func TestOAuthProvidersFromEnv(t *testing.T) {
	env := map[string]string{
		"AUTH_GITHUB_CLIENT_ID":             "gh-id",
		"AUTH_GITHUB_CLIENT_SECRET":         "gh-secret",
		"AUTH_GITHUB_SCOPES":                "repo, gist",
		"AUTH_MICROSOFT_CLIENT_ID":          "ms-id",
		"AUTH_MICROSOFT_TENANT_ID":          "organizations",
		"ACCOUNT_LINKING_TRUSTED_PROVIDERS": "github, my-idp",
		"ENCRYPT_OAUTH_TOKENS":              "true",
		"AUTH_OIDC_MY_IDP_ISSUER":           "https://idp.example.com/",
		"AUTH_OIDC_MY_IDP_CLIENT_ID":        "idp-id",
		"AUTH_OIDC_MY_IDP_CLIENT_SECRET":    "idp-secret",
		"AUTH_OIDC_MY_IDP_SCOPES":           "groups",
	}
	for k, v := range env {
		t.Setenv(k, v) // the generic providers are found by listing the environment
	}
	cfg, err := loadConfig(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := oauthConfig{
		EncryptTokens:    true,
		TrustedProviders: []string{"github", "my-idp"},
		Providers: []providerConfig{
			{ID: "github", ClientID: "gh-id", ClientSecret: "gh-secret", Scopes: []string{"repo", "gist"}},
			{ID: "microsoft", ClientID: "ms-id", Tenant: "organizations", Authority: "https://login.microsoftonline.com"},
			{ID: "my-idp", ClientID: "idp-id", ClientSecret: "idp-secret", Issuer: "https://idp.example.com", Scopes: []string{"groups"}},
		},
	}
	if !reflect.DeepEqual(cfg.OAuth, want) {
		t.Fatalf("config = %+v\nwant %+v", cfg.OAuth, want)
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			env  map[string]string
			want string
		}{
			{map[string]string{"AUTH_GOOGLE_CLIENT_ID": "g"}, "AUTH_GOOGLE_CLIENT_SECRET is required"},
			{map[string]string{"ENCRYPT_OAUTH_TOKENS": "yes please"}, "ENCRYPT_OAUTH_TOKENS"},
		}
		for _, tc := range tests {
			_, err := loadConfig(nil, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("env %v: err = %v, want %q", tc.env, err, tc.want)
			}
		}
	})
}
