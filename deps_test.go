package main

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedDeps are the only modules go.mod may require directly, each with the reason the product
// owner admitted it. Anything else needs their consent first: add it here with its reason.
var allowedDeps = map[string]string{
	"github.com/jackc/pgx/v5":                     "the Postgres driver and pool",
	"golang.org/x/crypto":                         "scrypt (upstream's password hash), XChaCha20-Poly1305, HKDF",
	"golang.org/x/oauth2":                         "OAuth 2 flows of the social providers",
	"golang.org/x/text":                           "NFKC normalization of passwords, as upstream; JavaScript's full lower-casing of usernames (cases)",
	"golang.org/x/sync":                           "errgroup/singleflight where the standard library has none",
	"golang.org/x/sys":                            "sched_setattr, which package syscall lacks: the hashing threads' short time slice (hashproc_linux.go)",
	"github.com/pquerna/otp":                      "TOTP and HOTP for two-factor",
	"github.com/go-webauthn/webauthn":             "passkeys",
	"github.com/coreos/go-oidc/v3":                "verifying OpenID Connect ID tokens",
	"github.com/go-jose/go-jose/v4":               "JOSE (JWS/JWE/JWK), go-oidc's own dependency",
	"github.com/prometheus/client_golang":         "Prometheus metrics on METRICS_ADDR (registry, Go and process collectors, promhttp)",
	"github.com/testcontainers/testcontainers-go": "tests only: a throwaway Postgres when Docker is there",
	"github.com/crewjam/saml":                     "SAML 2.0 enterprise SSO: the service provider's checks (XML signatures, decryption, conditions); tests run its identity provider",
	"github.com/russellhaering/goxmldsig":         "XML signatures, crewjam/saml's own dependency: its signature algorithm names and clock",
	"github.com/beevik/etree":                     "tests only: rewriting an IdP's signed XML to prove the SAML attacks fail (crewjam/saml's own dependency)",
	"github.com/redis/go-redis/v9":                "the Redis secondary storage (REDIS_URL): sessions, verification values and rate limits in Better Auth's keys",
}

// testOnlyDeps may be required but never imported by the server itself.
var testOnlyDeps = []string{"github.com/testcontainers/testcontainers-go", "github.com/beevik/etree"}

// directRequires lists the modules go.mod requires directly (not marked // indirect).
func directRequires(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mods []string
	inBlock := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inBlock:
			continue
		}
		if line == "" || strings.HasPrefix(line, "//") || strings.Contains(line, "// indirect") {
			continue
		}
		mods = append(mods, strings.Fields(line)[0])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return mods
}

// TestDeps fails when go.mod requires a module outside the allowed list, or when the server (not
// its tests) imports a test-only one. Like tailscale's TestDeps, it makes every new dependency a
// deliberate, reviewed decision.
func TestDeps(t *testing.T) {
	t.Parallel()
	mods := directRequires(t)
	if len(mods) == 0 {
		t.Fatal("found no requirements in go.mod; is the parser broken?")
	}
	for _, m := range mods {
		if _, ok := allowedDeps[m]; !ok {
			t.Errorf("go.mod requires %s, which is not an allowed dependency (see allowedDeps)", m)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, testOnly := range testOnlyDeps {
				if path == testOnly || strings.HasPrefix(path, testOnly+"/") {
					t.Errorf("%s imports %s, which is for tests only", name, path)
				}
			}
		}
	}
}
