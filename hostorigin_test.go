package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestProductionWithoutBaseURLRefusesToStart: with ENV=production and no BETTER_AUTH_URL every
// mailed link would take its origin from the attacker's Host header; the server does not start,
// and says why in one line. An https BETTER_AUTH_URL (production by itself) or any
// BETTER_AUTH_URL with ENV=production starts.
func TestProductionWithoutBaseURLRefusesToStart(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 32)
	for _, tt := range []struct {
		env     map[string]string
		refused bool
	}{
		{map[string]string{"ENV": "production"}, true},
		{map[string]string{"ENV": "production", "BETTER_AUTH_URL": "http://app.internal:3000"}, false},
		{map[string]string{"BETTER_AUTH_URL": "https://app.example.com"}, false},
		{map[string]string{}, false},
	} {
		tt.env["BETTER_AUTH_SECRET"] = secret
		_, err := loadConfig(nil, func(k string) string { return tt.env[k] })
		if tt.refused != (err != nil) {
			t.Fatalf("%v: err = %v, want refused %v", tt.env, err, tt.refused)
		}
		if err != nil && (err != errProductionNeedsBaseURL || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("%v: %q is not the one-line refusal", tt.env, err)
		}
	}
}

// TestHostHeaderCannotChooseTheOriginOfMailedLinks is the Host-header attack on a development
// server without BETTER_AUTH_URL: "Host: evil.example" is refused (400 UNTRUSTED_HOST, no mail,
// no token stored, a log line naming what to set), and so is its callbackURL; a loopback Host
// and one listed in TRUSTED_ORIGINS are served, and the reset link carries that origin.
func TestHostHeaderCannotChooseTheOriginOfMailedLinks(t *testing.T) {
	// Not parallel: it reads the process-wide log.
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	ts := newTestServer(t, emailDefaults, func(c *config) {
		c.BaseURL = ""
		c.TrustedOrigins = []string{"http://app.example.com"}
	})
	ts.client(t).signUp("host@example.com", "password123", "Host")
	send := func(host, callbackURL string) (*http.Response, map[string]string) {
		body, _ := json.Marshal(map[string]any{"email": "host@example.com", "redirectTo": callbackURL})
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/auth/request-password-reset", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://"+host)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e map[string]string
		json.NewDecoder(resp.Body).Decode(&e)
		return resp, e
	}
	before := ts.rowCount(t, "verification")
	refused := []string{"evil.example", "evil.example:80", "localhost.evil.example", "127.0.0.1.nip.io"}
	for _, host := range refused {
		resp, e := send(host, "http://"+host+"/x")
		if resp.StatusCode != http.StatusBadRequest || e["code"] != "UNTRUSTED_HOST" {
			t.Fatalf("Host %s: %d %v", host, resp.StatusCode, e)
		}
	}
	if n := ts.rowCount(t, "verification"); n != before {
		t.Fatalf("a refused request stored %d reset tokens", n-before)
	}
	if !strings.Contains(logs.String(), "set BETTER_AUTH_URL") || !strings.Contains(logs.String(), "evil.example") {
		t.Fatalf("no log line saying what to set:\n%s", logs.String())
	}

	served := []string{strings.TrimPrefix(ts.URL, "http://"), "app.example.com"}
	for _, host := range served {
		resp, e := send(host, "http://"+host+"/done")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("Host %s: %d %v", host, resp.StatusCode, e)
		}
		if m := ts.waitMail(t, "reset-password", "host@example.com"); !strings.HasPrefix(m.URL, "http://"+host+"/api/auth/reset-password/") {
			t.Fatalf("Host %s: reset link %s", host, m.URL)
		}
	}
	recordFigures(t, "host origin", map[string]any{"refused": refused, "served": served})
}
