package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeDocumentsEverySetting runs `authsidecar -h` and wants each variable it names, plus the
// environment-only secrets, in the README's configuration tables; a new flag cannot go undocumented.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-h")
	cmd.Env = append(os.Environ(), "AUTHSIDECAR_RUN_MAIN=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("authsidecar -h: %v\n%s", err, out)
	}
	names := regexp.MustCompile(`\[([A-Z][A-Z0-9_]+)\]`).FindAllStringSubmatch(string(out), -1)
	if len(names) < 40 {
		t.Fatalf("-h names %d variables; the usage text changed shape:\n%s", len(names), out)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"BETTER_AUTH_SECRET", "SMTP_PASSWORD", "LOG_LEVEL", "AUTH_OIDC_<ID>_ISSUER", "AUTH_OIDC_<ID>_CLIENT_SECRET"}
	for _, n := range names {
		want = append(want, n[1])
		if strings.HasSuffix(n[1], "_CLIENT_ID") {
			want = append(want, strings.TrimSuffix(n[1], "_ID")+"_SECRET")
		}
	}
	for _, name := range want {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document `%s`", name)
		}
	}
}
