package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDeviationsProvenByGoTestsExist: a deviation the compatibility harness cannot show on the
// wire names the Go tests that prove it (web/compat/deviations.mjs, provenBy); each must exist,
// so that COMPATIBILITY.md never cites a test that was renamed or removed.
func TestDeviationsProvenByGoTestsExist(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("web/compat/deviations.mjs")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*_test.go")
	var tests strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tests.Write(b)
	}
	n := 0
	for _, list := range regexp.MustCompile(`provenBy: \[([^\]]*)\]`).FindAllStringSubmatch(string(src), -1) {
		for _, name := range regexp.MustCompile(`"(\w+)"`).FindAllStringSubmatch(list[1], -1) {
			n++
			if !strings.Contains(tests.String(), "func "+name[1]+"(") {
				t.Errorf("deviations.mjs cites %s, which no Go test file defines", name[1])
			}
		}
	}
	if n == 0 {
		t.Fatal("no provenBy entries found; has deviations.mjs changed shape?")
	}
}
