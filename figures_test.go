package main

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
)

var figuresMu sync.Mutex

// recordFigures appends one JSON line of measured figures to the file named by RELIABILITY_OUT,
// which scripts/reliability.sh renders into RELIABILITY.md. Without the variable it does nothing:
// the tests assert their own outcomes either way.
func recordFigures(t testing.TB, name string, figures map[string]any) {
	t.Helper()
	out := os.Getenv("RELIABILITY_OUT")
	if out == "" {
		return
	}
	line, err := json.Marshal(map[string]any{"test": t.Name(), "name": name, "figures": figures})
	if err != nil {
		t.Fatal(err)
	}
	figuresMu.Lock()
	defer figuresMu.Unlock()
	f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
}
