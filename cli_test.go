package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// runCLI runs the binary (this test binary through main) with only the environment given.
func runCLI(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"AUTHSIDECAR_RUN_MAIN=1", "PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelpIsTypedAndGroupedAsTheREADME: -h shows each flag with its type (a bool takes no value)
// in the README's groups and order, as testdata/help.txt has it (go test -update rewrites it).
func TestHelpIsTypedAndGroupedAsTheREADME(t *testing.T) {
	t.Parallel()
	out, err := runCLI(t, nil, "-h")
	if err != nil {
		t.Fatalf("-h: %v\n%s", err, out)
	}
	compareGolden(t, "testdata/help.txt", []byte(out))
	for _, want := range []string{"  -rate-limit\n", "  -shutdown-timeout duration\n", "  -db-max-conns int\n", "  -smtp-port int\n", "  -sso-trust-email-verified\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("-h lacks %q", want)
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var readmeGroups, helpGroups []string
	for _, m := range regexp.MustCompile(`(?m)^### (.+)$`).FindAllStringSubmatch(string(readme), -1) {
		readmeGroups = append(readmeGroups, m[1])
	}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][^:\n]+):$`).FindAllStringSubmatch(out, -1) {
		helpGroups = append(helpGroups, m[1])
	}
	if len(helpGroups) != 9 || !slices.Equal(readmeGroups[:len(helpGroups)], helpGroups) {
		t.Errorf("-h groups %q, README's configuration groups begin %q", helpGroups, readmeGroups)
	}
}

// TestVersionNamesTheBuild: `authsidecar version` and `-version` print the module version and the
// Go release from the build information, even where a production start would refuse.
func TestVersionNamesTheBuild(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"-version"}} {
		out, err := runCLI(t, []string{"ENV=production"}, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if !strings.HasPrefix(out, "authsidecar ") || !strings.HasSuffix(out, runtime.Version()+"\n") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v printed %q", args, out)
		}
	}
}

// TestHealthAndMigrateDoNotWarnAboutTheSecret: only serve uses the secret, so only serve warns
// that a development one is made up.
func TestHealthAndMigrateDoNotWarnAboutTheSecret(t *testing.T) {
	t.Parallel()
	_, dbURL := newTestDB(t)
	out, err := runCLI(t, []string{"DATABASE_URL=" + dbURL}, "migrate")
	if err != nil || !strings.Contains(out, "schema applied") {
		t.Errorf("migrate: %v\n%s", err, out)
	}
	health, _ := runCLI(t, []string{"ADDR=" + freePort(t)}, "health")
	for cmd, out := range map[string]string{"migrate": out, "health": health} {
		if strings.Contains(out, "BETTER_AUTH_SECRET") {
			t.Errorf("%s warns about the secret:\n%s", cmd, out)
		}
	}
}

// TestConfigReadsTypedFlagsAndVariables: a flag beats its variable, a bool flag needs no value,
// SEND_VERIFICATION_ON_SIGN_UP follows REQUIRE_EMAIL_VERIFICATION unless set, and a value of the
// wrong type names its variable.
func TestConfigReadsTypedFlagsAndVariables(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(config) bool
		err   string
	}{
		{"defaults", nil, nil, func(c config) bool {
			return c.RateLimit && c.ShutdownTimeout == 15*time.Second && c.MaxBodyBytes == 1<<20 && c.Email.SMTPPort == 587 && c.Addr == ":4000" && !c.Production
		}, ""},
		{"variables", nil, map[string]string{"RATE_LIMIT": "false", "SHUTDOWN_TIMEOUT": "3s", "DB_MAX_CONNS": "7", "ORG_LIMIT": "2", "HASH_SLOTS": "1"}, func(c config) bool {
			return !c.RateLimit && c.ShutdownTimeout == 3*time.Second && c.DBMaxConns == 7 && c.Org.Limit == 2 && c.HashSlots == 1
		}, ""},
		{"a flag beats its variable", []string{"-rate-limit", "-shutdown-timeout", "1m"}, map[string]string{"RATE_LIMIT": "false", "SHUTDOWN_TIMEOUT": "3s"}, func(c config) bool {
			return c.RateLimit && c.ShutdownTimeout == time.Minute
		}, ""},
		{"sign-up verification follows required verification", []string{"-require-email-verification"}, nil, func(c config) bool {
			return c.Email.RequireVerification && c.Email.SendOnSignUp
		}, ""},
		{"sign-up verification set apart", nil, map[string]string{"REQUIRE_EMAIL_VERIFICATION": "true", "SEND_VERIFICATION_ON_SIGN_UP": "false"}, func(c config) bool {
			return c.Email.RequireVerification && !c.Email.SendOnSignUp
		}, ""},
		{"a missing secret is made up, with a warning for serve", nil, nil, func(c config) bool {
			return len(c.Secret) == 64 && strings.Contains(c.SecretWarning, "BETTER_AUTH_SECRET is not set")
		}, ""},
		{"a bad bool variable", nil, map[string]string{"RATE_LIMIT": "maybe"}, nil, "RATE_LIMIT: want true or false"},
		{"a bad duration variable", nil, map[string]string{"SHUTDOWN_TIMEOUT": "15"}, nil, "SHUTDOWN_TIMEOUT: want a duration"},
		{"a bad int variable", nil, map[string]string{"SMTP_PORT": "smtp"}, nil, "SMTP_PORT: want a whole number"},
		{"a negative count", nil, map[string]string{"DB_MAX_CONNS": "-1"}, nil, "DB_MAX_CONNS"},
		{"hash slots beyond the memory budget", nil, map[string]string{"HASH_SLOTS": "3"}, nil, "HASH_SLOTS: want 0 (one per CPU) to 2"},
		{"a negative hash slot count", nil, map[string]string{"HASH_SLOTS": "-1"}, nil, "HASH_SLOTS"},
		{"a bad bool flag", []string{"-rate-limit=maybe"}, nil, nil, "-rate-limit"},
		{"a weak secret in production", nil, map[string]string{"ENV": "production", "BETTER_AUTH_URL": "https://app.example.com", "BETTER_AUTH_SECRET": "short"}, nil, "BETTER_AUTH_SECRET must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, func(k string) string { return tt.env[k] })
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v, want one containing %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.err == "" && !tt.check(c):
				t.Errorf("config not as wanted: %+v", c)
			}
		})
	}
}

// TestHealthAsksLoopbackForAnyListenAddress: the health check reaches a server listening on
// every interface whatever way ADDR spells it, [::]:port included, and refuses an ADDR without a port.
func TestHealthAsksLoopbackForAnyListenAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", ":0") // every interface, as ADDR=:4000 does
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != basePath+"/ok" {
			http.NotFound(w, r)
		}
	}))
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, addr := range []string{":" + port, "0.0.0.0:" + port, "[::]:" + port, "127.0.0.1:" + port} {
		if err := checkHealth(context.Background(), addr, basePath); err != nil {
			t.Errorf("health %s: %v", addr, err)
		}
	}
	if err := checkHealth(context.Background(), port, basePath); err == nil || !strings.Contains(err.Error(), "ADDR") {
		t.Errorf("health of an ADDR without a port: %v", err)
	}
}
