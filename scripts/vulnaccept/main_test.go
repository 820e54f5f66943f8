package main

import (
	"io"
	"strings"
	"testing"
)

// A govulncheck stream as -format json writes it (indented, one message after another): one
// vulnerability called, one only imported.
const stream = `{"osv": {"id": "GO-1", "summary": "called one"}}
{"osv": {"id": "GO-2", "summary": "imported one"}}
{"finding": {"osv": "GO-1", "trace": [{"module": "m", "package": "m"}]}}
{"finding": {
  "osv": "GO-1",
  "trace": [{"module": "m", "package": "m", "function": "Parse", "receiver": "*SP"}, {"module": "a", "package": "a", "function": "verify"}]
}}
{"finding": {"osv": "GO-2", "trace": [{"module": "n", "package": "n"}]}}
`

// TestVulnacceptFailsOnAnythingButTheAcceptedCalledFindings: only the called findings count; each
// must be accepted with a reason, and each accepted one must still be reported.
func TestVulnacceptFailsOnAnythingButTheAcceptedCalledFindings(t *testing.T) {
	tests := []struct {
		name, accepted, wantErr string
	}{
		{"called finding accepted", "# why\nGO-1 mitigated, see TestX\n", ""},
		{"called finding not accepted", "", "GO-1 (called one) is called: *SP.Parse <- verify"},
		{"accepted finding no longer reported", "GO-1 mitigated\nGO-2 imported only\n", "GO-2 is accepted but no longer reported"},
		{"accepted without a reason", "GO-1\n", "GO-1 has no reason"},
	}
	for _, tc := range tests {
		err := check(strings.NewReader(stream), strings.NewReader(tc.accepted), io.Discard)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if err := check(strings.NewReader(`{"finding": `), strings.NewReader("GO-1 x\n"), io.Discard); err == nil {
		t.Error("a truncated stream was accepted")
	}
}
